using System.Net;
using System.Net.Sockets;
using Lb.TestSupport;
using Lb.Vrrp.Engine;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Lb.Vrrp.Tests.Support;

namespace Lb.Vrrp.Tests.Engine;

/// <summary>An engine driven by a manual clock, recording what it does.</summary>
internal sealed class Harness
{
    public static readonly IPAddress Vip = IPAddress.Parse("10.0.0.100");
    public static readonly IPAddress Ours = IPAddress.Parse("10.0.0.5");

    public Harness(VrrpSubsystemOptions options)
    {
        Engine = new VrrpEngine(options, Actions, Events, Time, Logs, (g, s) => GroupNotifies.Add((g.Name, s)));
        foreach (var m in Engine.Instances.Values)
            m.SourceAddress = Ours;
    }

    public Harness(params VrrpInstanceOptions[] instances)
        : this(new VrrpSubsystemOptions { Instances = instances })
    {
    }

    public ManualTimeProvider Time { get; } = new();
    public RecordingActionSink Actions { get; } = new();
    public RecordingEventSink Events { get; } = new();
    public ListLogger Logs { get; } = new();
    public List<(string Group, VrrpState State)> GroupNotifies { get; } = new();
    public VrrpEngine Engine { get; }

    public VrrpInstanceMachine this[string name] => Engine.Instances[name];

    public static VrrpInstanceOptions Instance(string name = "VI_1", int priority = 100, int vrid = 51, int? version = null, Func<VrrpInstanceOptions, VrrpInstanceOptions>? with = null)
    {
        var o = new VrrpInstanceOptions
        {
            Name = name,
            Interface = "eth0",
            VirtualRouterId = vrid,
            Priority = priority,
            Version = version,
            VirtualIpAddresses = [new VirtualAddress { Address = Vip, PrefixLength = 24 }],
        };
        return with is null ? o : with(o);
    }

    public void Start() => Engine.StartAll();

    public VrrpPacket Advert(string instance, int priority, int? centis = null, byte[]? auth = null, IReadOnlyList<IPAddress>? addresses = null)
    {
        var s = this[instance].Settings;
        return new VrrpPacket
        {
            Version = s.Version,
            VirtualRouterId = (byte)s.Options.VirtualRouterId,
            Priority = (byte)priority,
            AuthType = s.Options.Authentication?.Type ?? VrrpAuthType.None,
            RawAuthType = (byte)(s.Options.Authentication?.Type ?? VrrpAuthType.None),
            AdvertIntervalCentiseconds = centis ?? (int)(s.AdvertInterval.TotalMilliseconds / 10),
            Family = s.Family,
            Addresses = addresses ?? s.AdvertAddresses,
            AuthData = auth ?? s.AuthData.ToArray(),
        };
    }

    public void Receive(string instance, int priority, string from, int ttl = 255, int? centis = null)
        => this[instance].ReceiveAdvert(Advert(instance, priority, centis), IPAddress.Parse(from), ttl);

    public List<VrrpAction> TakeActions(string instance = "VI_1")
    {
        var a = Actions.For(instance).ToList();
        Actions.Clear();
        return a;
    }

    public static AddressFamily V4 => AddressFamily.InterNetwork;
}
