using System;
using System.Net;
using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.Targets.Graph
{
    /// <summary>The Graph and sign-in hosts of each national cloud, and the checks on configured URLs.</summary>
    public static class GraphEndpoints
    {
        /// <summary>The Graph endpoint and the sign-in authority host of <paramref name="environment"/>.</summary>
        public static (string Graph, string Authority) For(GraphEnvironment environment)
        {
            switch (environment)
            {
                case GraphEnvironment.USGov: return ("https://graph.microsoft.us", "https://login.microsoftonline.us");
                case GraphEnvironment.USGovDoD: return ("https://dod-graph.microsoft.us", "https://login.microsoftonline.us");
                case GraphEnvironment.China: return ("https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn");
                default: return ("https://graph.microsoft.com", "https://login.microsoftonline.com");
            }
        }

        /// <summary>
        /// The Graph endpoint (scheme, host and port, no path) the settings name: the environment's
        /// unless Endpoint was set to something other than the global default.
        /// </summary>
        public static Uri ResolveGraph(GraphSettings settings, bool allowHttpLoopback = true)
        {
            var configured = settings.Endpoint;
            string value = string.IsNullOrWhiteSpace(configured) || SameUrl(configured, GraphSettings.DefaultEndpoint)
                ? For(settings.Environment).Graph
                : configured.Trim();
            return Check(value, "Microsoft Graph endpoint", allowHttpLoopback, keepPath: false);
        }

        /// <summary>The sign-in authority host: AuthorityHost when set, else the environment's. Always https (Azure.Identity refuses http).</summary>
        public static Uri ResolveAuthority(GraphSettings settings)
        {
            var value = string.IsNullOrWhiteSpace(settings.AuthorityHost) ? For(settings.Environment).Authority : settings.AuthorityHost!.Trim();
            return Check(value, "sign-in authority host", allowHttpLoopback: false, keepPath: false);
        }

        /// <summary>The token scope for a Graph endpoint: "https://graph.microsoft.com/.default".</summary>
        public static string Scope(Uri graph) => graph.GetLeftPart(UriPartial.Authority) + "/.default";

        /// <summary>Allows https, and http only to a loopback host when <paramref name="allowHttpLoopback"/>; anything else is ChatterTarget.InsecureUrl.</summary>
        internal static Uri Check(string value, string what, bool allowHttpLoopback, bool keepPath)
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp) || string.IsNullOrEmpty(uri.Host))
                throw new ChatterException("ChatterTarget.InvalidUrl", ChatterErrorKind.InvalidArgument,
                    $"The {what} '{value}' is not an absolute http(s) URL.", value);
            if (uri.Scheme == Uri.UriSchemeHttp && !(allowHttpLoopback && IsLoopback(uri)))
                throw new ChatterException("ChatterTarget.InsecureUrl", ChatterErrorKind.InvalidArgument,
                    $"The {what} '{uri.GetLeftPart(UriPartial.Authority)}' is not https. Microsoft Graph is reached over https only (plain http is allowed to a loopback address, for tests).",
                    value);
            return keepPath ? uri : new Uri(uri.GetLeftPart(UriPartial.Authority));
        }

        internal static bool IsLoopback(Uri uri)
        {
            var host = uri.Host.Trim('[', ']');
            if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
            return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
        }

        private static bool SameUrl(string a, string b) =>
            string.Equals(a.Trim().TrimEnd('/'), b.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
    }
}
