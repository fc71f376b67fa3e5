using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ChatterConnector.Fakes;

/// <summary>
/// Azurite, the Azure Storage emulator, for one test run: installed from npm (the version pinned in
/// tests/azurite/package.json) into tests/azurite/node_modules when it is not there, started on free
/// loopback ports with its data in a temporary folder, telemetry off. It stops with
/// <see cref="Dispose"/>, and by itself when the test process ends: tests/azurite/run.js exits when
/// its standard input closes.
/// </summary>
public sealed class Azurite : IDisposable
{
    /// <summary>Azurite's well-known development account.</summary>
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _location;

    private Azurite(Process process, string location, int blobPort, int tablePort, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate)
    {
        _process = process; _location = location; BlobPort = blobPort; TablePort = tablePort; Certificate = certificate;
    }

    /// <summary>CPU time the emulator has used so far (a benchmark tells its share of the work from it).</summary>
    public TimeSpan ProcessorTime { get { _process.Refresh(); return _process.TotalProcessorTime; } }

    public int BlobPort { get; }
    public int TablePort { get; }

    /// <summary>With OAuth: the self-signed certificate Azurite serves HTTPS with (trust it with <see cref="TrustingHandler"/>).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate { get; }
    private string Scheme => Certificate == null ? "http" : "https";
    public Uri BlobEndpoint => new($"{Scheme}://127.0.0.1:{BlobPort}/{AccountName}");
    public Uri TableEndpoint => new($"{Scheme}://127.0.0.1:{TablePort}/{AccountName}");

    /// <summary>An HTTP handler that trusts this Azurite's certificate (and no other self-signed one).</summary>
    public HttpClientHandler TrustingHandler() => new()
    {
        ServerCertificateCustomValidationCallback = (_, cert, _, errors) =>
            errors == System.Net.Security.SslPolicyErrors.None || (Certificate != null && cert != null && cert.Thumbprint == Certificate.Thumbprint),
    };

    /// <summary>A connection string for both services on their ports (PROTOCOLS.md, "Azure Storage on Azurite").</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol={Scheme};AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint={BlobEndpoint};TableEndpoint={TableEndpoint};";

    /// <summary>What Azurite printed so far (for a failing test's message).</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>The folder holding tests/azurite (found by walking up from the test's base directory).</summary>
    public static string PackageFolder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "azurite");
                if (File.Exists(Path.Combine(candidate, "package.json"))) return candidate;
            }
            throw new InvalidOperationException("tests/azurite/package.json was not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>
    /// Installs Azurite when needed, starts it and waits until both services answer. With
    /// <paramref name="oauth"/> it serves HTTPS with a self-signed certificate made here and takes
    /// bearer tokens (its "basic" OAuth: issuer, audience and lifetime are checked, not the signature).
    /// </summary>
    public static async Task<Azurite> StartAsync(bool oauth = false)
    {
        var folder = PackageFolder;
        await EnsureInstalledAsync(folder);
        for (int attempt = 1; ; attempt++)
        {
            var location = Path.Combine(Path.GetTempPath(), "chatter-azurite-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(location);
            var (blob, queue, table) = (FreePort(), FreePort(), FreePort());
            var certificate = oauth ? WriteCertificate(location) : null;
            var info = new ProcessStartInfo("node")
            {
                WorkingDirectory = folder,
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            foreach (var a in new[]
            {
                Path.Combine(folder, "run.js"),
                "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(),
                "--queueHost", "127.0.0.1", "--queuePort", queue.ToString(),
                "--tableHost", "127.0.0.1", "--tablePort", table.ToString(),
                "--location", location, "--disableTelemetry", "--skipApiVersionCheck", "--loose",
            }) info.ArgumentList.Add(a);
            if (certificate != null)
                foreach (var a in new[] { "--oauth", "basic", "--cert", Path.Combine(location, "cert.pem"), "--key", Path.Combine(location, "key.pem") })
                    info.ArgumentList.Add(a);
            var process = Process.Start(info) ?? throw new InvalidOperationException("node could not be started.");
            var azurite = new Azurite(process, location, blob, table, certificate);
            process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (azurite._output) azurite._output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (azurite._output) azurite._output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (await azurite.WaitReadyAsync(TimeSpan.FromSeconds(60))) return azurite;
            var output = azurite.Output;
            azurite.Dispose();
            // A port taken between choosing it and Azurite binding it: try other ports.
            if (attempt >= 3) throw new InvalidOperationException("Azurite did not start:\n" + output);
        }
    }

    /// <summary>A self-signed certificate for 127.0.0.1, written as cert.pem and key.pem into <paramref name="folder"/>.</summary>
    private static System.Security.Cryptography.X509Certificates.X509Certificate2 WriteCertificate(string folder)
    {
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", key,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        var names = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        File.WriteAllText(Path.Combine(folder, "cert.pem"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(folder, "key.pem"), key.ExportPkcs8PrivateKeyPem());
        return certificate;
    }

    private async Task<bool> WaitReadyAsync(TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (_process.HasExited) return false;
            if (Listening(BlobPort) && Listening(TablePort)) return true;
            await Task.Delay(100);
        }
        return false;
    }

    private static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>
    /// Runs <c>npm ci</c> (or <c>npm install</c> without a lock file) in tests/azurite when Azurite
    /// is missing; a lock file beside it keeps two test processes from installing at once. Installed
    /// means a marker written after npm finished, naming the package lock it installed: Azurite's
    /// own files appear one by one while npm unpacks them, and a test process that took their
    /// first one for a finished install started an Azurite with half its modules.
    /// </summary>
    public static async Task EnsureInstalledAsync(string folder)
    {
        var entry = Path.Combine(folder, "node_modules", "azurite", "dist", "src", "azurite.js");
        var marker = Path.Combine(folder, "node_modules", ".chatterconnector-installed");
        var lockFile = Path.Combine(folder, "package-lock.json");
        var wanted = File.Exists(lockFile) ? Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(lockFile))) : "no lock";
        bool Installed() => File.Exists(entry) && File.Exists(marker) && File.ReadAllText(marker).Trim() == wanted;
        if (Installed()) return;
        await InstallLock.WaitAsync();
        try
        {
            using var fileLock = await LockFileAsync(Path.Combine(folder, ".install.lock"));
            if (Installed()) return;
            var command = File.Exists(lockFile) ? "ci" : "install";
            var info = new ProcessStartInfo("npm") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { command, "--no-audit", "--no-fund", "--loglevel=error" }) info.ArgumentList.Add(a);
            using var npm = Process.Start(info) ?? throw new InvalidOperationException("npm could not be started.");
            var stdout = npm.StandardOutput.ReadToEndAsync();
            var stderr = npm.StandardError.ReadToEndAsync();
            await npm.WaitForExitAsync();
            if (npm.ExitCode != 0 || !File.Exists(entry))
                throw new InvalidOperationException($"npm {command} of Azurite failed ({npm.ExitCode}):\n{await stdout}\n{await stderr}");
            File.WriteAllText(marker, wanted);
        }
        finally
        {
            InstallLock.Release();
        }
    }

    private static async Task<FileStream> LockFileAsync(string path)
    {
        var until = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (DateTime.UtcNow < until) { await Task.Delay(250); }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                try { _process.StandardInput.Close(); } catch (IOException) { }
                if (!_process.WaitForExit(5000)) _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(_location, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
