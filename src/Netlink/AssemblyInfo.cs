namespace Lb.Netlink;
