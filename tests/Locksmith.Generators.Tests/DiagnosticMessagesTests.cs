using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using Locksmith.Generators.Diagnostics;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// What every message must do: name what it is about (never <c>''</c>, even for lambdas, local functions and members
/// of extension blocks) and say how to fix it (<c>what is wrong; what to do</c>).
/// </summary>
public sealed class DiagnosticMessagesTests
{
    private static readonly Regex s_emptyName = new(@"''|'\.|\.'|\w\.\.\w", RegexOptions.CultureInvariant);

    [Fact]
    public void LambdasLocalFunctionsAndExtensionMembers_AreNamedInMessages() => DiagnosticCheck.Verify("""
        using System;
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _balance;
            [Guarded(Lock = nameof(_lock))] private void DepositCore() { }

            public Action Peek() => () => {|LSM0020:_balance|}++;
            public void Touch() { void Local() => {|LSM0020:_balance|}++; Local(); }
            [Guarded(Lock = nameof(_lock))] private void RefundCore() { void Again() => {|LSM0023:Deposit()|}; Again(); }
            [Guarded(Lock = nameof(_lock))] private void NestedCore() { [Guarded(Lock = nameof(_lock))] void {|LSM0016:InnerCore|}() { } }
            public Action Later() => {|LSM0016:[AcquiresLocksOf("a", Lock = nameof(_lock))] (Account a) => { }|};
        }
        public static class AccountExtensions
        {
            extension(Account account)
            {
                [Guarded(Lock = "_lock")] public void {|LSM0030:WithdrawCore|}() { }
            }
        }
        """);

    [Fact]
    public void EveryMessage_SaysHowToFixIt_AndNamesWhatItIsAbout()
    {
        // Every diagnostic test snapshots its messages; together they show every descriptor (LSM0099 needs a bug).
        var lines = Directory.GetFiles(Snapshot.Folder, "*#diagnostics.verified.txt")
            .SelectMany(static file => File.ReadAllLines(file))
            .Where(static line => line.Length > 0)
            .ToList();
        var shown = lines.Select(static line => line.Substring(0, 7)).ToHashSet();
        var ids = typeof(DiagnosticDescriptors).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(static f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(static f => ((DiagnosticDescriptor)f.GetValue(null)!).Id)
            .Where(static id => id != DiagnosticDescriptors.GeneratorFailure.Id);
        Assert.Empty(ids.Where(id => !shown.Contains(id)).Select(static id => "no snapshot shows " + id));

        foreach (string line in lines)
        {
            string message = line.Substring(line.IndexOf("): ", StringComparison.Ordinal) + 3);
            Assert.False(s_emptyName.IsMatch(message), "An empty or partial name: " + line);
            Assert.True(message.Contains("; ", StringComparison.Ordinal), "No fix ('what is wrong; what to do'): " + line);
        }

        string failure = DiagnosticDescriptors.GeneratorFailure.MessageFormat.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("; ", failure, StringComparison.Ordinal);
    }
}
