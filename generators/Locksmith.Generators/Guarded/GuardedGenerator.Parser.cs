using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Locksmith.Generators.Diagnostics;
using Locksmith.Generators.Guarded.Models;
using Locksmith.Generators.Helpers;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Guarded;

public sealed partial class GuardedGenerator
{
    /// <summary>
    /// Turns attributed symbols into <see cref="ParsedMember"/> models and diagnostics. It never throws: an
    /// unexpected failure becomes an LSM0099 diagnostic on the member instead of a CS8785 that hides every wrapper.
    /// </summary>
    internal static partial class Parser
    {
        public static ParsedMember ParseGuarded(GeneratorAttributeSyntaxContext context, CancellationToken token)
        {
            var diagnostics = new List<DiagnosticInfo>();
            try
            {
                var data = new GuardedAttributeData(context.Attributes[0]);
                var wrapper = context.TargetSymbol is IMethodSymbol method
                    ? ParseGuardedMethod(context, method, data, diagnostics, token)
                    : CheckGuardedState(context, data, diagnostics, token);
                return Result(wrapper, diagnostics);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                return Failure(context, exception);
            }
        }

        public static ParsedMember ParseAcquiresLocksOf(GeneratorAttributeSyntaxContext context, CancellationToken token)
        {
            var diagnostics = new List<DiagnosticInfo>();
            try
            {
                var data = new AcquiresLocksOfAttributeData(context.Attributes[0]);
                var wrapper = context.TargetSymbol is IMethodSymbol method
                    ? ParseLockSetMethod(context, method, data, diagnostics, token)
                    : null;
                return Result(wrapper, diagnostics);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                return Failure(context, exception);
            }
        }

        public static ParsedLockOrder ParseLockOrder(GeneratorAttributeSyntaxContext context, CancellationToken token)
        {
            try
            {
                var member = context.TargetSymbol;
                var type = LockMembers.TypeOf(member);
                var location = NameLocation(context.TargetNode, member);
                if (!LockCapabilitiesReader.Of(type).IsLock())
                {
                    var diagnostic = DiagnosticInfo.Create(
                        DiagnosticDescriptors.LockOrderOnNonLock, location, member.Name, type?.ToDisplayString() ?? member.Kind.ToString());
                    return new ParsedLockOrder(null, new EquatableArray<DiagnosticInfo>([diagnostic]));
                }

                token.ThrowIfCancellationRequested();
                var level = LockMembers.LevelOf(member);
                var entry = level is { } value && member.ContainingType is { } containing
                    ? new LockOrderEntry(containing.ToDisplayString(), member.Name, value, LocationInfo.From(location))
                    : null;
                return new ParsedLockOrder(entry, EquatableArray<DiagnosticInfo>.Empty);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                return new ParsedLockOrder(null, Failure(context, exception).Diagnostics);
            }
        }

        /// <summary>LSM0025: a <c>[ReadMostly]</c> type must declare a read-write lock for the attribute to mean anything.</summary>
        public static EquatableArray<DiagnosticInfo> CheckReadMostly(GeneratorAttributeSyntaxContext context, CancellationToken token)
        {
            try
            {
                if (context.TargetSymbol is not INamedTypeSymbol type)
                {
                    return EquatableArray<DiagnosticInfo>.Empty;
                }

                for (var current = type; current is not null; current = current.BaseType)
                {
                    token.ThrowIfCancellationRequested();
                    foreach (var member in current.GetMembers())
                    {
                        if ((LockCapabilitiesReader.Of(LockMembers.TypeOf(member)) & LockCapabilities.ReadWrite) != 0)
                        {
                            return EquatableArray<DiagnosticInfo>.Empty;
                        }
                    }
                }

                var location = context.Attributes[0].ApplicationSyntaxReference?.GetSyntax(token).GetLocation();
                return new EquatableArray<DiagnosticInfo>([DiagnosticInfo.Create(DiagnosticDescriptors.ReadMostlyWithoutReadWriteLock, location, type.Name)]);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                return Failure(context, exception).Diagnostics;
            }
        }

        private static ParsedMember Result(WrapperModel? wrapper, List<DiagnosticInfo> diagnostics)
        {
            // A declaration with an error gets no wrapper: the error says why, and half-right code would add noise.
            bool hasError = diagnostics.Any(static d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);
            return new ParsedMember(hasError ? null : wrapper, diagnostics.ToEquatableArray());
        }

        private static ParsedMember Failure(GeneratorAttributeSyntaxContext context, Exception exception)
        {
            var diagnostic = DiagnosticInfo.Create(
                DiagnosticDescriptors.GeneratorFailure,
                context.TargetNode.GetLocation(),
                context.TargetSymbol.Name,
                exception.GetType().Name + ": " + exception.Message);
            return new ParsedMember(null, new EquatableArray<DiagnosticInfo>([diagnostic]));
        }

        /// <summary>Checks a guarded field or property; they get no wrapper (the analyzers check their uses).</summary>
        private static WrapperModel? CheckGuardedState(
            GeneratorAttributeSyntaxContext context, GuardedAttributeData data, List<DiagnosticInfo> diagnostics, CancellationToken token)
        {
            var member = context.TargetSymbol;
            var attributeLocation = AttributeLocation(data.Attribute, token);
            if (member.ContainingType is { } type &&
                ResolveLock(type, data.Lock, member, attributeLocation, diagnostics) is { } lockInfo &&
                member.IsStatic && !lockInfo.Member.IsStatic)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.StaticMemberGuardedByInstanceLock, attributeLocation, DisplayName(member), lockInfo.Member.Name));
            }

            return null;
        }
    }
}
