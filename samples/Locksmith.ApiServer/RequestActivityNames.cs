using System;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Locksmith.ApiServer;

/// <summary>
/// Names each request's <see cref="Activity"/> by its method and path (<c>PUT /prices/ABC</c>) instead of ASP.NET Core's
/// operation name (<c>Microsoft.AspNetCore.Hosting.HttpRequestIn</c>). Locksmith names an async flow by its activity in
/// timeout messages, log lines and the catalog (<c>flow #6 ('PUT /prices/ABC')</c>), so an operator on <c>/locks</c> sees
/// which request holds or waits for a lock.
/// </summary>
/// <remarks>
/// A startup filter, so it runs before every other middleware: a lock taken anywhere in the pipeline is named. The query
/// string is left out (it may carry values no log should keep); a name a tracer already gave the activity is kept.
/// </remarks>
internal sealed class RequestActivityNames : IStartupFilter
{
    private const string HostingOperation = "Microsoft.AspNetCore.Hosting.HttpRequestIn";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(static (context, nextMiddleware) =>
        {
            if (Activity.Current is { OperationName: HostingOperation } activity && activity.DisplayName == HostingOperation)
            {
                activity.DisplayName = $"{context.Request.Method} {context.Request.PathBase}{context.Request.Path}";
            }

            return nextMiddleware(context);
        });
        next(app);
    };
}
