using System;
using System.Globalization;
using System.Linq;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0016 on a method whose body is not C# the user wrote: a <c>[LibraryImport]</c> partial method (the interop source
/// generator writes its implementing declaration, which the user cannot put <c>[Guarded]</c> on, and which this
/// generator does not see) and an <c>extern</c> one. The advice was "guard a method with a body, such as the implementing
/// declaration", which cannot be followed there; it now says to guard a managed method that calls the import. A partial
/// method the user has not implemented yet is still told to add the implementing declaration.
/// </summary>
public sealed class GuardedInteropMethodTests
{
    [Fact]
    public void LSM0016_SaysToGuardAManagedCaller_OfALibraryImportOrExternMethod()
    {
        var run = DiagnosticCheck.Verify("""
        using System.Runtime.InteropServices;
        using Locksmith;
        public sealed partial class Native
        {
            private static readonly ExclusiveLock s_lock = new();
            private readonly ExclusiveLock _lock = new();

            [Guarded(Lock = nameof(s_lock))]
            [LibraryImport("libc", EntryPoint = "getpid")]
            private static partial int {|LSM0016:GetPidCore|}();

            [Guarded(Lock = nameof(_lock))]
            [LibraryImport("libc", EntryPoint = "getppid")]
            private partial int {|LSM0016:GetParentPidCore|}();

            [Guarded(Lock = nameof(s_lock))]
            [DllImport("libc", EntryPoint = "getuid")]
            private static extern int {|LSM0016:GetUidCore|}();

            [Guarded(Lock = nameof(_lock))]
            private partial void {|LSM0016:ResetCore|}();

            // What the advice says: the managed caller is guarded, the import is not.
            [LibraryImport("libc", EntryPoint = "getgid")]
            private static partial int GetGid();

            [Guarded(Lock = nameof(s_lock))]
            private static int GroupCore() => GetGid();
        }
        """);
        var advice = run.LocksmithDiagnostics.Where(static d => d.Id == "LSM0016").Select(static d => d.GetMessage(CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(3, advice.Count(static m => m.Contains("guard a managed method that calls it", StringComparison.Ordinal)));
        Assert.Single(advice, static m => m.Contains("add the implementing declaration", StringComparison.Ordinal));
    }
}
