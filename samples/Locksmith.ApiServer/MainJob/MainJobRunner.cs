using System.Threading.Tasks;

namespace Locksmith.ApiServer.MainJob;

/// <summary>
/// Placeholder: the load-driving main job (progress bar, result table, exit code) replaces this file. Until then it
/// starts the server and runs it until Ctrl+C, like <c>--serve</c>.
/// </summary>
public static class MainJobRunner
{
    /// <summary>Runs the main job; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        await using var app = ApiServerApp.Build(ApiServerApp.CreateBuilder(args));
        await app.RunAsync().ConfigureAwait(false);
        return 0;
    }
}
