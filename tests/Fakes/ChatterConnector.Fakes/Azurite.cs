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

    private Azurite(Process process, string location, int blobPort, int tablePort)
    {
        _process = process; _location = location; BlobPort = blobPort; TablePort = tablePort;
    }

    /// <summary>CPU time the emulator has used so far (a benchmark tells its share of the work from it).</summary>
    public TimeSpan ProcessorTime { get { _process.Refresh(); return _process.TotalProcessorTime; } }

    public int BlobPort { get; }
    public int TablePort { get; }
    public Uri BlobEndpoint => new($"http://127.0.0.1:{BlobPort}/{AccountName}");
    public Uri TableEndpoint => new($"http://127.0.0.1:{TablePort}/{AccountName}");

    /// <summary>A connection string for both services on their ports (PROTOCOLS.md, "Azure Storage on Azurite").</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint={BlobEndpoint};TableEndpoint={TableEndpoint};";

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

    /// <summary>Installs Azurite when needed, starts it and waits until both services answer.</summary>
    public static async Task<Azurite> StartAsync()
    {
        var folder = PackageFolder;
        await EnsureInstalledAsync(folder);
        for (int attempt = 1; ; attempt++)
        {
            var location = Path.Combine(Path.GetTempPath(), "chatter-azurite-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(location);
            var (blob, queue, table) = (FreePort(), FreePort(), FreePort());
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
            var process = Process.Start(info) ?? throw new InvalidOperationException("node could not be started.");
            var azurite = new Azurite(process, location, blob, table);
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
    /// is missing; a lock file beside it keeps two test processes from installing at once.
    /// </summary>
    public static async Task EnsureInstalledAsync(string folder)
    {
        var entry = Path.Combine(folder, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (File.Exists(entry)) return;
        await InstallLock.WaitAsync();
        try
        {
            using var fileLock = await LockFileAsync(Path.Combine(folder, ".install.lock"));
            if (File.Exists(entry)) return;
            var command = File.Exists(Path.Combine(folder, "package-lock.json")) ? "ci" : "install";
            var info = new ProcessStartInfo("npm") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { command, "--no-audit", "--no-fund", "--loglevel=error" }) info.ArgumentList.Add(a);
            using var npm = Process.Start(info) ?? throw new InvalidOperationException("npm could not be started.");
            var stdout = npm.StandardOutput.ReadToEndAsync();
            var stderr = npm.StandardError.ReadToEndAsync();
            await npm.WaitForExitAsync();
            if (npm.ExitCode != 0 || !File.Exists(entry))
                throw new InvalidOperationException($"npm {command} of Azurite failed ({npm.ExitCode}):\n{await stdout}\n{await stderr}");
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
