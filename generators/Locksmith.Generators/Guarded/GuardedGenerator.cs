using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Locksmith.Generators.Guarded.Models;
using Locksmith.Generators.Helpers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locksmith.Generators.Guarded;

/// <summary>
/// Turns <c>[Guarded]</c> and <c>[AcquiresLocksOf]</c> methods into locking wrappers, and checks the declarations of
/// <c>[Guarded]</c> members and <c>[LockOrder]</c> locks. Checks that need method bodies live in the analyzers.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class GuardedGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var guarded = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownNames.GuardedAttribute,
                IsGuardedTarget,
                static (attributeContext, token) => Parser.ParseGuarded(attributeContext, token))
            .WithTrackingName(TrackingNames.GuardedMembers);

        var acquiresLocksOf = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownNames.AcquiresLocksOfAttribute,
                IsMethodTarget,
                static (attributeContext, token) => Parser.ParseAcquiresLocksOf(attributeContext, token))
            .WithTrackingName(TrackingNames.AcquiresLocksOfMethods);

        var lockOrders = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownNames.LockOrderAttribute,
                IsLockMemberTarget,
                static (attributeContext, token) => Parser.ParseLockOrder(attributeContext, token))
            .WithTrackingName(TrackingNames.LockOrders);

        // [property: LockOrder(n)] and [property: Guarded(…)] on a record's positional parameter: ForAttributeWithMetadataName
        // does not see them.
        var recordParameterLockOrders = context.SyntaxProvider
            .CreateSyntaxProvider(
                Parser.IsRecordParameterWithPropertyAttributes,
                static (syntaxContext, token) => Parser.ParseRecordParameter(syntaxContext, token))
            .Where(static order => order is not null)
            .Select(static (order, _) => order!)
            .WithTrackingName(TrackingNames.RecordParameterLockOrders);

        var readMostly = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownNames.ReadMostlyAttribute,
                IsTypeTarget,
                static (attributeContext, token) => Parser.CheckReadMostly(attributeContext, token))
            .WithTrackingName(TrackingNames.ReadMostlyTypes);

        // Diagnostics take their own branch: they carry locations, which change on any edit above them, and must
        // not make the wrapper models below unequal.
        context.RegisterSourceOutput(
            guarded.Select(static (member, _) => member.Diagnostics).WithTrackingName(TrackingNames.GuardedDiagnostics),
            static (production, diagnostics) => Report(production, diagnostics));
        context.RegisterSourceOutput(
            acquiresLocksOf.Select(static (member, _) => member.Diagnostics).WithTrackingName(TrackingNames.AcquiresLocksOfDiagnostics),
            static (production, diagnostics) => Report(production, diagnostics));
        context.RegisterSourceOutput(readMostly, static (production, diagnostics) => Report(production, diagnostics));
        context.RegisterSourceOutput(
            lockOrders.Select(static (order, _) => order.Diagnostics).WithTrackingName(TrackingNames.LockOrderDiagnostics),
            static (production, diagnostics) => Report(production, diagnostics));
        context.RegisterSourceOutput(
            recordParameterLockOrders.Select(static (order, _) => order.Diagnostics).WithTrackingName(TrackingNames.RecordParameterLockOrderDiagnostics),
            static (production, diagnostics) => Report(production, diagnostics));
        var lockOrderEntries = lockOrders
            .Select(static (order, _) => order.Entry)
            .Where(static entry => entry is not null)
            .Collect()
            .Combine(recordParameterLockOrders
                .Select(static (order, _) => order.Entry)
                .Where(static entry => entry is not null)
                .Collect())
            .Select(static (pair, _) => pair.Left.AddRange(pair.Right));
        context.RegisterSourceOutput(
            lockOrderEntries
                .Select(static (entries, token) => LockOrderLevels.FindClashes(entries!, token))
                .WithTrackingName(TrackingNames.LockOrderClashes),
            static (production, diagnostics) => Report(production, diagnostics));

        // LSM0064: where global::System or global::Locksmith does not reach the namespace, nothing generated could compile.
        var hiddenNamespaces = context.CompilationProvider
            .Select(static (compilation, token) => HiddenNamespaces.Find(compilation, token))
            .WithTrackingName(TrackingNames.HiddenNamespaces);
        var blocked = hiddenNamespaces.Select(static (found, _) => found.Count > 0);

        // The manifest of declared levels: one file per compilation, only where the runtime can take it and the
        // language has module initializers (C# 9).
        var target = context.CompilationProvider.Select(static (compilation, _) => LockOrderManifestEmitter.TargetFor(compilation));
        var manifest = lockOrderEntries
            .Select(static (entries, _) => LockOrderManifestEmitter.Sort(
                entries.Select(static entry => new ManifestEntry(entry!.TypeName, entry.MemberName, entry.Level, entry.Kind)).ToImmutableArray()))
            .Combine(target)
            .WithTrackingName(TrackingNames.LockOrderManifest);
        context.RegisterSourceOutput(manifest.Combine(blocked), static (production, input) =>
        {
            var ((entries, target), isBlocked) = input;
            if (!isBlocked && target is { } manifestTarget && entries.Count > 0)
            {
                production.AddSource(LockOrderManifestEmitter.HintName, LockOrderManifestEmitter.Emit(entries, manifestTarget));
            }
        });

        var wrappers = guarded
            .Select(static (member, _) => member.Wrapper)
            .Where(static wrapper => wrapper is not null)
            .WithTrackingName(TrackingNames.GuardedWrappers)
            .Collect()
            .Combine(acquiresLocksOf
                .Select(static (member, _) => member.Wrapper)
                .Where(static wrapper => wrapper is not null)
                .WithTrackingName(TrackingNames.AcquiresLocksOfWrappers)
                .Collect());

        var types = wrappers
            .SelectMany(static (pair, token) => TypeGrouping.Group(pair.Left.Concat(pair.Right)!, token))
            .WithTrackingName(TrackingNames.TypeModels);

        context.RegisterSourceOutput(types.Combine(blocked), static (production, pair) =>
        {
            if (!pair.Right)
            {
                production.AddSource(pair.Left.HintName, Emitter.Emit(pair.Left));
            }
        });

        // Said once, and only where something would have been generated: a project that uses no attribute is not told.
        var generates = wrappers
            .Select(static (pair, _) => pair.Left.Length + pair.Right.Length > 0)
            .Combine(manifest)
            .Select(static (pair, _) => pair.Left || (pair.Right.Right is not null && pair.Right.Left.Count > 0));
        context.RegisterSourceOutput(generates.Combine(hiddenNamespaces), static (production, pair) =>
        {
            if (pair.Left)
            {
                Report(production, pair.Right);
            }
        });
    }

    /// <summary>
    /// The syntax filter of <c>[Guarded]</c>: fields (each declarator), properties and indexers, and every kind of
    /// method the attribute can be written on, so that the unsupported ones (local functions, lambdas, accessors,
    /// constructors, operators) still reach the parser and get a diagnostic instead of being ignored.
    /// </summary>
    internal static bool IsGuardedTarget(SyntaxNode node, CancellationToken token) =>
        node is VariableDeclaratorSyntax or PropertyDeclarationSyntax or IndexerDeclarationSyntax or EnumMemberDeclarationSyntax ||
        IsMethodTarget(node, token);

    /// <summary>The syntax filter of <c>[AcquiresLocksOf]</c>: every kind of method the attribute can be written on.</summary>
    internal static bool IsMethodTarget(SyntaxNode node, CancellationToken token) =>
        node is BaseMethodDeclarationSyntax or LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax or AccessorDeclarationSyntax;

    /// <summary>The syntax filter of <c>[LockOrder]</c>: fields (each declarator) and properties.</summary>
    internal static bool IsLockMemberTarget(SyntaxNode node, CancellationToken token) =>
        node is VariableDeclaratorSyntax or PropertyDeclarationSyntax or IndexerDeclarationSyntax or EnumMemberDeclarationSyntax;

    /// <summary>The syntax filter of <c>[ReadMostly]</c>: classes, structs and records.</summary>
    internal static bool IsTypeTarget(SyntaxNode node, CancellationToken token) =>
        node is ClassDeclarationSyntax or StructDeclarationSyntax or RecordDeclarationSyntax;

    private static void Report(SourceProductionContext production, EquatableArray<DiagnosticInfo> diagnostics)
    {
        // Once per distinct problem and place, however many paths of the parser reached it.
        foreach (var diagnostic in diagnostics.Distinct())
        {
            production.ReportDiagnostic(diagnostic.ToDiagnostic());
        }
    }
}
