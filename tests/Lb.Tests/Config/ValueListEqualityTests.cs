using Lb.Config;
using Lb.Netlink.Collections;
using Xunit;

namespace Lb.Lb.Tests.Config;

/// <summary>Options records compare by value, so a reload sees an unchanged configuration as <c>==</c>.</summary>
public sealed class ValueListEqualityTests
{
    [Fact]
    public void Equal_contents_are_equal_with_equal_hashes()
    {
        ValueList<string> a = ["x", "y"];
        var b = new List<string> { "x", "y" };
        ValueList<string> c = b;
        Assert.True(a == c);
        Assert.Equal(a, c);
        Assert.Equal(a.GetHashCode(), c.GetHashCode());
        Assert.False(a == (ValueList<string>)["y", "x"]);
        Assert.False(a == (ValueList<string>)["x"]);
        Assert.True(ValueList<int>.Empty == (ValueList<int>)new int[0]);
    }

    private const string Text = """
        vrrp_script chk {
            script "/bin/true arg1"
        }
        vrrp_instance VI_1 {
            interface lo
            virtual_router_id 7
            priority 100
            virtual_ipaddress {
                10.1.1.1/32
                10.1.1.2/32
            }
            virtual_routes {
                10.2.0.0/16 via 10.1.1.254 dev lo
            }
            track_script {
                chk
            }
            notify_master "/bin/echo master"
        }
        virtual_server 10.1.1.1 80 {
            lb_algo rr
            lb_kind NAT
            protocol TCP
            real_server 10.3.0.1 80 {
                HTTP_GET {
                    url {
                        path /
                        status_code 200-299
                    }
                }
            }
            real_server 10.3.0.2 80 {
                MISC_CHECK {
                    misc_path "/bin/true a b"
                }
            }
        }
        virtual_server 10.1.1.2 53 {
            lb_algo rr
            lb_kind NAT
            protocol UDP
            real_server 10.3.0.3 53 {
                UDP_CHECK {
                    payload 0a0b0c
                    require_reply 0a
                }
            }
        }
        """;

    [Fact]
    public void Records_rebuilt_from_the_same_text_are_equal()
    {
        var a = ConfigLoader.LoadText(Text, "v.conf");
        var b = ConfigLoader.LoadText(Text, "v.conf");
        Assert.NotEmpty(a.Options.Vrrp.Instances);
        Assert.Equal(2, a.Options.Checkers.VirtualServers.Count);
        Assert.True(a.Options.Vrrp == b.Options.Vrrp);
        Assert.True(a.Options.Checkers == b.Options.Checkers);
        Assert.Equal(a.Options.Vrrp.GetHashCode(), b.Options.Vrrp.GetHashCode());
        Assert.Equal(a.Options.Checkers.GetHashCode(), b.Options.Checkers.GetHashCode());
    }

    [Theory]
    [InlineData("10.1.1.2/32", "10.1.1.3/32", true)]
    [InlineData("payload 0a0b0c", "payload 0a0b0d", false)]
    [InlineData("status_code 200-299", "status_code 200-298", false)]
    public void A_one_value_change_makes_them_differ(string from, string to, bool vrrp)
    {
        Assert.Contains(from, Text, StringComparison.Ordinal);
        var a = ConfigLoader.LoadText(Text, "v.conf");
        var b = ConfigLoader.LoadText(Text.Replace(from, to, StringComparison.Ordinal), "v.conf");
        Assert.Equal(vrrp, a.Options.Vrrp != b.Options.Vrrp);
        Assert.Equal(!vrrp, a.Options.Checkers != b.Options.Checkers);
    }

    /// <summary>
    /// The guard that keeps the equality above from drifting: walking every options record reachable from what the
    /// subsystems get, no property may be a collection other than <see cref="ValueList{T}"/> (an array or a List compares
    /// by reference, and a reload would then see an unchanged file as changed).
    /// </summary>
    [Fact]
    public void No_options_record_holds_a_collection_that_compares_by_reference()
    {
        var offenders = new List<string>();
        var seen = new HashSet<Type>();
        void Walk(Type t, string path)
        {
            t = Nullable.GetUnderlyingType(t) ?? t;
            if (!seen.Add(t) || t.IsPrimitive || t.IsEnum || t == typeof(string) || t.Namespace?.StartsWith("Lb.", StringComparison.Ordinal) != true && !IsCollection(t))
                return;
            if (IsCollection(t))
            {
                if (!(t.IsGenericType && t.GetGenericTypeDefinition() == typeof(ValueList<>)))
                    offenders.Add($"{path}: {t.Name}");
                foreach (var a in t.IsArray ? [t.GetElementType()!] : t.GetGenericArguments())
                    Walk(a, path + "[]");
                return;
            }
            foreach (var p in t.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
            {
                if (p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract")
                    Walk(p.PropertyType, $"{t.Name}.{p.Name}");
            }
        }
        static bool IsCollection(Type t) => t != typeof(string) && typeof(System.Collections.IEnumerable).IsAssignableFrom(t);

        var loaded = ConfigLoader.LoadText(Text, "v.conf");
        Walk(loaded.Options.Vrrp.GetType(), "vrrp");
        Walk(loaded.Options.Checkers.GetType(), "checkers");
        Assert.True(seen.Count > 10, $"walked only {seen.Count} types");
        Assert.Empty(offenders);
    }
}
