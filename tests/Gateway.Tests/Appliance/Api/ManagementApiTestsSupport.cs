using System.Runtime.Versioning;
using Branchgate.Appliance.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Branchgate.Tests.Appliance.Api;

[SupportedOSPlatform("linux")]
internal static class ManagementApiTestsSupport
{
    /// <summary>A second API on another host's socket path (to see it refuse to take a live socket).</summary>
    public static WebApplication BuildOn(string socketPath, ApiTestHost other) =>
        ManagementApi.Build(new ManagementApiOptions
        {
            SocketPath = socketPath,
            SocketGroup = ApiTestHost.TestGroup,
            SetupTokenPath = null,
            ExportWgQuick = ApiTestHost.ExportForTests,
        }, other.Service, other.Users, builder => builder.Logging.ClearProviders());
}
