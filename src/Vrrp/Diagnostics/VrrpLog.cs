using System.Net;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Diagnostics;

/// <summary>Log messages, in keepalived 2.2.7's wording where keepalived has one (users grep for them).</summary>
internal static partial class VrrpLog
{
    [LoggerMessage(1, LogLevel.Information, "({Instance}) Entering MASTER STATE")]
    public static partial void EnteringMasterState(this ILogger logger, string instance);

    [LoggerMessage(2, LogLevel.Information, "({Instance}) Entering BACKUP STATE")]
    public static partial void EnteringBackupState(this ILogger logger, string instance);

    [LoggerMessage(3, LogLevel.Information, "({Instance}) Entering BACKUP STATE (init)")]
    public static partial void EnteringBackupStateInit(this ILogger logger, string instance);

    [LoggerMessage(4, LogLevel.Information, "({Instance}) Entering FAULT STATE")]
    public static partial void EnteringFaultState(this ILogger logger, string instance);

    [LoggerMessage(5, LogLevel.Information, "({Instance}) Receive advertisement timeout")]
    public static partial void ReceiveAdvertisementTimeout(this ILogger logger, string instance);

    [LoggerMessage(6, LogLevel.Information, "({Instance}) received lower priority ({Priority}) advert from {Source} - discarding")]
    public static partial void ReceivedLowerPriorityDiscarding(this ILogger logger, string instance, int priority, IPAddress source);

    [LoggerMessage(7, LogLevel.Information, "({Instance}) Master received advert from {Source} with higher priority {Priority}, ours {Ours}")]
    public static partial void MasterReceivedHigherPriority(this ILogger logger, string instance, IPAddress source, int priority, int ours);

    [LoggerMessage(8, LogLevel.Information, "({Instance}) Master received advert from {Source} with same priority {Priority} but higher IP address than ours")]
    public static partial void MasterReceivedSamePriorityHigherIp(this ILogger logger, string instance, IPAddress source, int priority);

    [LoggerMessage(9, LogLevel.Information, "({Instance}) Received advert from {Source} with lower priority {Priority}, ours {Ours}{Suffix}")]
    public static partial void MasterReceivedLowerPriority(this ILogger logger, string instance, IPAddress source, int priority, int ours, string suffix);

    [LoggerMessage(10, LogLevel.Information, "({Instance}) Backup received priority 0 advertisement")]
    public static partial void BackupReceivedPriorityZero(this ILogger logger, string instance);

    [LoggerMessage(11, LogLevel.Information, "({Instance}) Changing effective priority from {Old} to {New}")]
    public static partial void ChangingEffectivePriority(this ILogger logger, string instance, int old, int @new);

    [LoggerMessage(12, LogLevel.Information, "({Instance}) setting VIPs.")]
    public static partial void SettingVips(this ILogger logger, string instance);

    [LoggerMessage(13, LogLevel.Information, "({Instance}) removing VIPs.")]
    public static partial void RemovingVips(this ILogger logger, string instance);

    [LoggerMessage(14, LogLevel.Information, "({Instance}) Sending/queueing gratuitous ARPs on {Interface} for {Address}")]
    public static partial void SendingQueueingGarps(this ILogger logger, string instance, string @interface, IPAddress address);

    [LoggerMessage(15, LogLevel.Information, "({Instance}) Sending/queueing Unsolicited Neighbour Adverts on {Interface} for {Address}")]
    public static partial void SendingQueueingNas(this ILogger logger, string instance, string @interface, IPAddress address);

    [LoggerMessage(16, LogLevel.Information, "Sending gratuitous ARP on {Interface} for {Address}")]
    public static partial void SendingGarp(this ILogger logger, string @interface, IPAddress address);

    [LoggerMessage(17, LogLevel.Information, "Sending unsolicited Neighbour Advert on {Interface} for {Address}")]
    public static partial void SendingNa(this ILogger logger, string @interface, IPAddress address);

    [LoggerMessage(18, LogLevel.Information, "({Instance}) WARNING - equal priority advert received from remote host with our IP address.")]
    public static partial void EqualPriorityOwnAddress(this ILogger logger, string instance);

    [LoggerMessage(19, LogLevel.Error, "({Instance}) CONFIGURATION ERROR: local instance and a remote instance are both configured as address owner, please fix - reducing local priority")]
    public static partial void BothAddressOwners(this ILogger logger, string instance);

    [LoggerMessage(20, LogLevel.Information, "({Instance}) {Message}")]
    public static partial void Dropped(this ILogger logger, string instance, string message);

    [LoggerMessage(21, LogLevel.Information, "({Instance}) {Count} more adverts dropped ({Reason}) since the last report")]
    public static partial void DroppedSuppressed(this ILogger logger, string instance, long count, string reason);

    [LoggerMessage(22, LogLevel.Information, "VRRP_Script({Name}) succeeded")]
    public static partial void ScriptSucceeded(this ILogger logger, string name);

    [LoggerMessage(23, LogLevel.Information, "VRRP_Script({Name}) failed (exited with status {Status})")]
    public static partial void ScriptFailed(this ILogger logger, string name, int status);

    [LoggerMessage(24, LogLevel.Information, "VRRP_Script({Name}) timed_out")]
    public static partial void ScriptTimedOut(this ILogger logger, string name);

    [LoggerMessage(25, LogLevel.Information, "Script `{Name}` now returning {Status}")]
    public static partial void ScriptNowReturning(this ILogger logger, string name, int status);

    [LoggerMessage(26, LogLevel.Information, "Netlink reports {Interface} {State}")]
    public static partial void LinkState(this ILogger logger, string @interface, string state);

    [LoggerMessage(27, LogLevel.Information, "({Instance}) VIP {Address} removed from {Interface} behind our back - restoring")]
    public static partial void VipRestoring(this ILogger logger, string instance, IPAddress address, string @interface);

    [LoggerMessage(29, LogLevel.Warning, "({Instance}) action {Action} failed: {Error}")]
    public static partial void ActionFailed(this ILogger logger, string instance, string action, string error);

    [LoggerMessage(30, LogLevel.Information, "({Instance}) Entering FAULT STATE (init)")]
    public static partial void EnteringFaultStateInit(this ILogger logger, string instance);

    [LoggerMessage(31, LogLevel.Debug, "({Instance}) advertisement interval updated from {Old}ms to {New}ms by master")]
    public static partial void AdvertIntervalUpdated(this ILogger logger, string instance, long old, long @new);

    [LoggerMessage(32, LogLevel.Information, "VRRP_Group({Group}) Syncing instances to {State} state")]
    public static partial void SyncGroupSyncing(this ILogger logger, string group, string state);

    [LoggerMessage(33, LogLevel.Information, "Dropped VRRP packet from {Source} on {Interface}: {Reason}")]
    public static partial void SocketDropped(this ILogger logger, string source, string @interface, string reason);

    [LoggerMessage(34, LogLevel.Warning, "({Instance}) {Message}")]
    public static partial void InstanceWarning(this ILogger logger, string instance, string message);

    [LoggerMessage(35, LogLevel.Warning, "VRRP_Script({Name}) output exceeded {Limit} bytes - truncated")]
    public static partial void ScriptOutputTruncated(this ILogger logger, string name, int limit);

    [LoggerMessage(36, LogLevel.Information, "({Instance}) Notify script {Script} exited with status {Status}")]
    public static partial void NotifyExited(this ILogger logger, string instance, string script, int status);

    [LoggerMessage(37, LogLevel.Information, "Reload: {Change}")]
    public static partial void ReloadApplied(this ILogger logger, string change);

    [LoggerMessage(38, LogLevel.Warning, "Reload: {Setting} changed - {Consequence}")]
    public static partial void ReloadNeedsRestart(this ILogger logger, string setting, string consequence);

    [LoggerMessage(39, LogLevel.Information, "Reload: no change")]
    public static partial void ReloadNoChange(this ILogger logger);

    [LoggerMessage(40, LogLevel.Information, "({Instance}) removing VIP {Address} left on {Interface} by a previous run")]
    public static partial void RemovingLeftoverVip(this ILogger logger, string instance, IPAddress address, string @interface);

    [LoggerMessage(41, LogLevel.Warning, "Track file {Name}: reading {Path} has not returned - counting it as unreadable (0) until it does")]
    public static partial void TrackFileStuck(this ILogger logger, string name, string path);

    [LoggerMessage(42, LogLevel.Information, "Invalid number {Value} read from {Path} - ignoring")]
    public static partial void TrackFileInvalidNumber(this ILogger logger, string value, string path);

    [LoggerMessage(43, LogLevel.Information, "({Instance}) {Count} more lower priority adverts received since the last report")]
    public static partial void LowerPrioritySuppressed(this ILogger logger, string instance, long count);

    [LoggerMessage(44, LogLevel.Information, "A thread timer expired {Seconds} seconds ago")]
    public static partial void TimerExpiredLate(this ILogger logger, string seconds);

    [LoggerMessage(45, LogLevel.Information, "Set realtime priority {Priority}")]
    public static partial void SetRealtimePriority(this ILogger logger, int priority);

    [LoggerMessage(46, LogLevel.Warning, "VRRP thread {Thread}: cannot raise priority to SCHED_RR {Priority} - {Error}; continuing with normal scheduling")]
    public static partial void CannotRaisePriority(this ILogger logger, string thread, int priority, string error);

    [LoggerMessage(47, LogLevel.Warning, "Unable to lock process in memory - {Error}")]
    public static partial void CannotLockMemory(this ILogger logger, string error);

    [LoggerMessage(48, LogLevel.Information, "({Instance}) Operator: {Text}")]
    public static partial void OperatorAction(this ILogger logger, string instance, string text);

    [LoggerMessage(49, LogLevel.Information, "({Instance}) In maintenance: no master heard, not taking over")]
    public static partial void MaintenanceNotTakingOver(this ILogger logger, string instance);

    [LoggerMessage(90, LogLevel.Information, "({Instance}) IPSEC-AH : Syncing seq_num - Increment seq")]
    public static partial void AhSyncingSequence(this ILogger logger, string instance);
}
