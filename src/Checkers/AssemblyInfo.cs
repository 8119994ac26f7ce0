namespace Lb.Checkers;
