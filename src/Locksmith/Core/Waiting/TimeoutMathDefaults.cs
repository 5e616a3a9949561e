namespace Locksmith;

/// <summary>Sentinel timeouts passed into the inlined cores.</summary>
internal static class TimeoutMathDefaults
{
    /// <summary>"No timeout given": resolved to <see cref="LocksmithPolicy.DefaultTimeout"/> only on the slow path.</summary>
    public const int UseDefault = -2;
}
