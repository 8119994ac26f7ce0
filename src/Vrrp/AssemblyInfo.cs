namespace Lb.Vrrp;
