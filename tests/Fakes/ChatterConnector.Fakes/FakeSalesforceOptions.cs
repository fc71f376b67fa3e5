using System.Security.Cryptography.X509Certificates;

namespace ChatterConnector.Fakes;

/// <summary>How a <see cref="FakeSalesforce"/> org authenticates and pages. Change before <see cref="FakeSalesforce.Start"/>;
/// the lists and flags may also be changed between runs.</summary>
public sealed class FakeSalesforceOptions
{
    public string ClientId = "fake-client-id";
    public string ClientSecret = "fake-client-secret";
    public string Username = "integration@contoso.com";
    public string Password = "fake-password";
    public string SecurityToken = "fake-token";

    /// <summary>Refresh tokens accepted by the refresh_token grant; remove one to revoke it (lock the list when changing it during a run).</summary>
    public List<string> ValidRefreshTokens = new() { "fake-refresh-token" };

    /// <summary>Public certificate that verifies JWT bearer assertions (RS256); null refuses the JWT flow.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? JwtCertificate;

    public string AccessTokenPrefix = "00Dfake!";

    /// <summary>Most rows per page; <c>Sforce-Query-Options: batchSize=N</c> asks for fewer (any N ≥ 1 here).</summary>
    public int PageSize = 2000;

    public int DailyApiLimit = 100000;
    public int ApiUsageAtStart = 0;

    /// <summary>false → queries on ChatterMessage / ChatterConversationMember get 403 INSUFFICIENT_ACCESS.</summary>
    public bool PrivateMessagesAllowed = true;

    /// <summary>false → every REST call gets 403 API_DISABLED_FOR_ORG.</summary>
    public bool ApiEnabled = true;

    /// <summary>The version in nextRecordsUrl and VersionData URLs when a request names none; requests may use any vNN.N.</summary>
    public string ApiVersion = "62.0";
}

/// <summary>Fault injection; every field may be set at any time, also while requests are running.</summary>
public sealed class FakeFaults
{
    /// <summary>The next N authenticated REST calls get 401 INVALID_SESSION_ID, and the token they presented stops working.</summary>
    public int Unauthorized401Once;

    /// <summary>The next N REST calls get 503.</summary>
    public int Fail503;

    /// <summary>The next N REST calls have their connection aborted before any response.</summary>
    public int DropConnections;

    /// <summary>The next N VersionData downloads send half of the bytes, then abort the connection.</summary>
    public int TruncateDownloads;

    /// <summary>Added to every REST call.</summary>
    public TimeSpan Latency;

    /// <summary>Once <see cref="FakeSalesforce.ApiCalls"/> reaches this, every REST call gets 403 REQUEST_LIMIT_EXCEEDED (-1 = off).</summary>
    public int RequestLimitAfterCalls = -1;

    /// <summary>Share (0..1) of REST calls that fail at random, half with 503 and half with a dropped connection, deterministic from <see cref="Seed"/>.</summary>
    public double RandomFailureRate;

    public int Seed;

    internal readonly object Gate = new();

    internal bool Take(ref int counter)
    {
        lock (Gate)
        {
            if (counter <= 0) return false;
            counter--;
            return true;
        }
    }
}

/// <summary>One request the fake answered.</summary>
public sealed record FakeRequest(
    string Method,
    string Path,
    string Query,
    string? Soql,
    string? Object,
    int Status,
    DateTimeOffset Time)
{
    /// <summary>True when the connection was aborted instead of answered (<see cref="Status"/> is 0).</summary>
    public bool Dropped => Status == 0;
}
