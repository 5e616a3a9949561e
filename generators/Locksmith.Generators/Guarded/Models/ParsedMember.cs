using Locksmith.Generators.Helpers;

namespace Locksmith.Generators.Guarded.Models;

/// <summary>
/// What the parser makes of one attributed member: a wrapper model (or none) and the diagnostics. The pipeline
/// splits them at once, so the locations inside the diagnostics never reach the model that feeds source output.
/// </summary>
internal sealed record ParsedMember(WrapperModel? Wrapper, EquatableArray<DiagnosticInfo> Diagnostics);
