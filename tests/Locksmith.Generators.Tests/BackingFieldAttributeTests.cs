using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0054: [field: LockOrder] or [field: Guarded] on a property lands on the compiler's backing field, which Locksmith
/// does not read, so the level or the guard is lost without a word.
/// </summary>
public sealed class BackingFieldAttributeTests
{
    [Fact]
    public void LSM0054_FieldTargetedLockOrderOrGuardedOnAProperty_NotOnTheProperty() => DiagnosticCheck.Verify("""
        using System;
        using Locksmith;

        namespace Bank;

        [AttributeUsage(AttributeTargets.Field)]
        public sealed class NoteAttribute : Attribute { }

        public sealed partial class Vault
        {
            [field: {|LSM0054:LockOrder(5)|}] private ExclusiveLock Gate { get; } = new();

            [LockOrder(6)] private ExclusiveLock Other { get; } = new();

            [field: Note, {|LSM0054:LockOrder(7)|}] private ExclusiveLock Semi { get => field; } = new();

            [field: {|LSM0054:Guarded(Lock = nameof(Gate))|}] private decimal Balance { get; set; }

            [Guarded(Lock = nameof(Gate))] private decimal Held { get; set; }

            [field: Note] private int Plain { get; set; }

            [LockOrder(8)] private readonly ExclusiveLock _field = new();

            [Guarded(Lock = nameof(Gate))]
            private decimal TotalCore() => Held + Plain;
        }
        """);

    /// <summary>
    /// A record's positional parameter: <c>field:</c> sends the attribute to the backing field of the property the
    /// compiler makes from the parameter; <c>property:</c> is the target Locksmith reads there. Found in a migration trial.
    /// </summary>
    [Fact]
    public void LSM0054_FieldTargetedLockOrderOrGuardedOnARecordsPositionalParameter() => DiagnosticCheck.Verify("""
        using System;
        using Locksmith;

        namespace Bank;

        [AttributeUsage(AttributeTargets.Field)]
        public sealed class NoteAttribute : Attribute { }

        public sealed partial record Vault(
            [field: {|LSM0054:LockOrder(5)|}] ExclusiveLock Gate,
            [property: LockOrder(6)] ExclusiveLock Other,
            [field: Note, {|LSM0054:Guarded(Lock = "Other")|}] decimal Balance,
            [field: Note] int Plain);

        public readonly partial record struct Till([field: {|LSM0054:LockOrder(9)|}] ExclusiveLock Gate);
        """);
}
