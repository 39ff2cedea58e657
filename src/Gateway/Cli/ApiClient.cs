using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Branchgate.Appliance.Api;

namespace Branchgate.Cli;

/// <summary>
/// The management API of a running `branchgate serve`, over its unix socket, for the CLI verbs that change or read
/// the appliance while it runs (import, export).
/// </summary>
internal sealed class ApiClient : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);
    private readonly HttpClient _http;

    private ApiClient(string socketPath)
    {
        _http = new HttpClient(UnixSocketHttp.CreateHandler(socketPath))
        {
            BaseAddress = UnixSocketHttp.BaseAddress,
            Timeout = RequestTimeout,
        };
    }

    /// <summary>A client when something listens on <paramref name="socketPath"/>; null when serve is not running.</summary>
    public static ApiClient? TryConnect(string socketPath)
    {
        if (!File.Exists(socketPath))
        {
            return null;
        }

        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(socketPath));
            }
            catch (SocketException)
            {
                return null;
            }
        }

        return new ApiClient(socketPath);
    }

    public async Task<(int Status, string Body)> SendAsync(HttpMethod method, string path, string? body = null,
        string mediaType = "text/plain")
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue(mediaType));
        }

        using var response = await _http.SendAsync(request).ConfigureAwait(false);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync().ConfigureAwait(false));
    }

    /// <summary>The error sentence and its details from an API error body, one per line.</summary>
    public static string DescribeError(int status, string body)
    {
        try
        {
            var error = JsonSerializer.Deserialize(body, ApiJsonContext.Default.ErrorResponse);
            if (error is not null)
            {
                var lines = new StringBuilder(error.Error);
                foreach (var detail in error.Details)
                {
                    lines.Append("\n  ").Append(detail);
                }

                return lines.ToString();
            }
        }
        catch (JsonException)
        {
        }

        return $"the management API answered {status}";
    }

    public void Dispose() => _http.Dispose();
}
