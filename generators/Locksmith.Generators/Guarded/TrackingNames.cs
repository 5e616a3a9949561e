namespace Locksmith.Generators.Guarded;

/// <summary>Names of the pipeline steps, which the incrementality tests look up.</summary>
internal static class TrackingNames
{
    public const string GuardedMembers = nameof(GuardedMembers);
    public const string AcquiresLocksOfMethods = nameof(AcquiresLocksOfMethods);
    public const string LockOrders = nameof(LockOrders);
    public const string RecordParameterLockOrders = nameof(RecordParameterLockOrders);
    public const string RecordParameterLockOrderDiagnostics = nameof(RecordParameterLockOrderDiagnostics);
    public const string GuardedDiagnostics = nameof(GuardedDiagnostics);
    public const string AcquiresLocksOfDiagnostics = nameof(AcquiresLocksOfDiagnostics);
    public const string LockOrderDiagnostics = nameof(LockOrderDiagnostics);
    public const string LockOrderClashes = nameof(LockOrderClashes);
    public const string LockOrderManifest = nameof(LockOrderManifest);
    public const string ReadMostlyTypes = nameof(ReadMostlyTypes);
    public const string GuardedWrappers = nameof(GuardedWrappers);
    public const string AcquiresLocksOfWrappers = nameof(AcquiresLocksOfWrappers);
    public const string TypeModels = nameof(TypeModels);
    public const string HiddenNamespaces = nameof(HiddenNamespaces);
}
