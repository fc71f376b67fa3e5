using System;
using System.Net.Http;

namespace ChatterConnector.Engine.Targets.Graph
{
    /// <summary>Tuning of <see cref="GraphTarget"/>; the defaults are for Exchange Online, tests shorten the waits.</summary>
    public sealed class GraphTargetOptions
    {
        /// <summary>The first backoff of a retry (503, 504, a dropped connection, a 429 without Retry-After); doubled per attempt, with jitter.</summary>
        public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(2);

        /// <summary>The longest single backoff.</summary>
        public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(2);

        /// <summary>Retries of one request after a transient failure before the delivery fails with ChatterTarget.Unavailable.</summary>
        public int MaxRetries { get; set; } = 6;

        /// <summary>Accept an http endpoint on a loopback address (tests against a fake Graph). Other http endpoints are always refused.</summary>
        public bool AllowHttpLoopback { get; set; } = true;

        /// <summary>Size of one upload-session chunk: a multiple of 320 KiB under 4 MiB (default 12 × 320 KiB).</summary>
        public int UploadChunkSize { get; set; } = UploadChunks.DefaultChunkSize;

        /// <summary>The create request (message JSON with inline attachments) is kept under this many bytes; larger files are added after the create.</summary>
        public long InlineRequestLimit { get; set; } = 3L * 1000 * 1000;

        /// <summary>Bytes uploaded per mailbox per <see cref="UploadWindow"/> (Exchange: 150 MB per 5 minutes).</summary>
        public long UploadBytesPerWindow { get; set; } = 150L * 1000 * 1000;

        /// <summary>The sliding window of <see cref="UploadBytesPerWindow"/>.</summary>
        public TimeSpan UploadWindow { get; set; } = TimeSpan.FromMinutes(5);

        /// <summary>Requests in flight per mailbox (Exchange allows 4).</summary>
        public int MaxConcurrentPerMailbox { get; set; } = MailboxGate.DefaultConcurrency;

        /// <summary>
        /// Message creates sent together in one JSON $batch request (across mailboxes; Graph allows 20).
        /// Only a create that holds everything (no file added after it) and is small goes into a batch;
        /// 1 turns batching off: every create is its own request.
        /// </summary>
        public int BatchSize { get; set; } = 20;

        /// <summary>How long the first create queued for a batch waits for others before the batch is sent.</summary>
        public TimeSpan BatchDelay { get; set; } = TimeSpan.FromMilliseconds(2);

        /// <summary>Timeout of one HTTP request.</summary>
        public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(5);

        /// <summary>
        /// The HTTP handler the sign-in (Azure.Identity: token service, managed identity endpoint) sends
        /// its requests through; null (the default) → Azure.Core's own transport with the system's
        /// certificate checks. Tests pass a handler that trusts a local fake token service's certificate;
        /// the handler is not disposed by the target.
        /// </summary>
        public HttpMessageHandler? TokenHttpHandler { get; set; }

        /// <summary>
        /// Do not ask login.microsoftonline.com to validate the authority host (MSAL's instance discovery).
        /// Needed for a token service Microsoft does not know (a local fake, Azure Stack); off by default.
        /// </summary>
        public bool DisableInstanceDiscovery { get; set; }
    }
}
