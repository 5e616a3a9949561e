using Microsoft.Extensions.Options;

namespace Locksmith.Hosting;

/// <summary>
/// Checks <see cref="LocksmithOptions"/> at start (<c>ValidateOnStart</c>); written by the options-validation source
/// generator, so no reflection runs and the check is trim- and AOT-safe.
/// </summary>
[OptionsValidator]
internal sealed partial class LocksmithOptionsValidator : IValidateOptions<LocksmithOptions>
{
}
