using System.Linq;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Helpers;

/// <summary>A diagnostic to report, as equatable values (see <see cref="LocationInfo"/> for why not a <see cref="Diagnostic"/>).</summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params string[] arguments) =>
        new(descriptor, LocationInfo.From(location), new EquatableArray<string>(arguments));

    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(Descriptor, Location?.ToLocation(), Arguments.Cast<object>().ToArray());
}
