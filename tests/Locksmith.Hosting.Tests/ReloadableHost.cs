using System;
using System.IO;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Locksmith.Hosting.Tests;

/// <summary>A real host whose <c>Locksmith</c> section is a JSON file the test rewrites and reloads.</summary>
internal sealed class ReloadableHost : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("locksmith-reload");
    private readonly string _file;

    public ReloadableHost(
        string locksmith,
        Action<ILocksmithBuilder>? locks = null,
        string name = "reload",
        Action<IServiceCollection>? before = null,
        Action<IServiceCollection>? after = null)
    {
        _file = Path.Combine(_dir.FullName, "appsettings.json");
        Write(locksmith);
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = name });
        // No file watcher: the test reloads once it has written the file, so no watcher's reload races it.
        builder.Configuration.AddJsonFile(_file, optional: false, reloadOnChange: false);
        builder.Logging.AddFakeLogging();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        before?.Invoke(builder.Services);
        var added = builder.Services.AddLocksmith(builder.Configuration);
        locks?.Invoke(added);
        builder.Services.AddHealthChecks().AddLocksmith();
        after?.Invoke(builder.Services);
        Host = builder.Build();
    }

    public IHost Host { get; }

    /// <summary>Writes <paramref name="locksmith"/> as the <c>Locksmith</c> section and reloads the configuration.</summary>
    public void Reload(string locksmith)
    {
        Write(locksmith);
        ((IConfigurationRoot)Host.Services.GetRequiredService<IConfiguration>()).Reload();
    }

    public void Dispose()
    {
        Host.Dispose();
        _dir.Delete(recursive: true);
    }

    private void Write(string locksmith) => File.WriteAllText(_file, $$"""{ "Locksmith": {{locksmith}} }""");
}
