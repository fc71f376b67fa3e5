using System.Diagnostics;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.State;

namespace ChatterConnector.IntegrationTests;

/// <summary>
/// The cmdlets on an Azure store (Azurite), run as admins and workers would: each in a shell of its own
/// (a child process), several at once.
/// </summary>
public class AzureStoreCmdletTests : IClassFixture<AzuriteFixture>, IDisposable
{
    private readonly AzuriteFixture _azurite;
    private readonly Scratch _t = new();
    private readonly string _name = "c" + Guid.NewGuid().ToString("N")[..12];

    public AzureStoreCmdletTests(AzuriteFixture azurite) => _azurite = azurite;

    public void Dispose() => _t.Dispose();

    private string ConnectionString => AzureStoreBehaviourTests.ConnectionString(_azurite, _name);

    /// <summary>A worker's environment: the store named by CHATTERCONNECTOR_STORE, local work under a folder of the test.</summary>
    private Dictionary<string, string> Worker => new()
    {
        ["CHATTERCONNECTOR_STORE"] = ConnectionString,
        ["CHATTERCONNECTOR_HOME"] = _t.Sub("home"),
    };

    private AzureConnectorStore OpenStore() => AzureConnectorStore.Open(ConnectionString, new AzureStoreOptions { WorkPath = _t.Sub("home") });

    /// <summary>Connectors on one sample export, each with a Maildir of its own, made through the cmdlets.</summary>
    private void CreateConnectors(params string[] names)
    {
        var script = $"New-ChatterSampleExport -Path '{_t.Sub("export")}' -Users 12 -Posts 40 -Seed 3 | Out-Null; " +
            string.Concat(names.Select(n => $"New-ChatterConnector -Name {n} -SourcePath '{_t.Sub("export")}' -MaildirPath '{_t.Sub("mail-" + n)}' | Set-ChatterUserMapping -Automatic; "));
        var (exit, stdout, stderr) = ModuleShell.Run(script, Worker);
        Assert.True(exit == 0 && NoErrors(stderr), stderr + stdout);
    }

    /// <summary>Nothing on standard error but warnings (unmapped users of the sample org are expected).</summary>
    private static bool NoErrors(string stderr) =>
        stderr.Split('\n').Select(l => l.Trim()).All(l => l.Length == 0 || l.StartsWith("WARNING:", StringComparison.Ordinal));

    /// <summary>Messages in a Maildir that a worker is writing to right now.</summary>
    private static int CountDelivered(string maildir)
    {
        try { return Directory.Exists(maildir) ? Directory.EnumerateFiles(maildir, "*", SearchOption.AllDirectories).Count(f => f.Contains("/cur/")) : 0; }
        catch (IOException) { return 0; }
    }

    private static List<string> Lines(string stdout, string prefix) =>
        stdout.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).ToList();

    [Fact]
    public void AnImportIntoTheAzureStore_RunsOnce_AndPipedObjectsFindTheirStore()
    {
        var script = CmdletApiTests.Secure("cs", ConnectionString) +
            $"New-ChatterSampleExport -Path '{_t.Sub("export")}' -Users 12 -Posts 40 -Seed 3 | Out-Null; " +
            $"New-ChatterConnector -Name Az -SourcePath '{_t.Sub("export")}' -MaildirPath '{_t.Sub("mail")}' -StoreConnectionString $cs | " +
            "Set-ChatterUserMapping -Automatic -PassThru | Start-ChatterImport | ForEach-Object { 'RUN {0} {1} {2}' -f $_.Status, $_.Imported, $_.StorePath; " +
            "  'LOG {0}' -f @($_ | Get-ChatterConnectorLog -Status Imported).Count }; " +
            "Get-ChatterConnector -StoreConnectionString $cs | Start-ChatterImport -Force | ForEach-Object { 'AGAIN {0} {1}' -f $_.Status, $_.Imported }; " +
            "Get-ChatterImportRun -Name Az -StoreConnectionString $cs | ForEach-Object { 'HIST ' + $_.Status }";
        var (exit, stdout, stderr) = ModuleShell.Run(script, new Dictionary<string, string> { ["CHATTERCONNECTOR_HOME"] = _t.Sub("home") });
        Assert.True(exit == 0 && NoErrors(stderr), stderr + stdout);
        var run = Assert.Single(Lines(stdout, "RUN ")).Split(' ');
        Assert.Equal("Succeeded", run[1]);
        var imported = int.Parse(run[2]);
        Assert.True(imported > 50);
        Assert.StartsWith("http://127.0.0.1:", run[3]);
        Assert.Equal($"LOG {imported}", Assert.Single(Lines(stdout, "LOG ")));
        Assert.Equal("AGAIN Succeeded 0", Assert.Single(Lines(stdout, "AGAIN ")));
        Assert.Equal(2, Lines(stdout, "HIST Succeeded").Count);
        var archive = ApiImportTests.Archive(_t.Sub("mail"));
        Assert.Equal(imported, archive.Count);
        Assert.Equal(archive.Count, archive.Distinct().Count());
    }

    [Fact]
    public void ASecondWorkerOnALeasedConnector_GetsConnectorBusy_AndThePipelineGoesOn()
    {
        CreateConnectors("A", "B");
        using var store = OpenStore();
        using var held = store.AcquireRunLock("A");   // another worker is importing A
        var script = CmdletApiTests.Secure("cs", ConnectionString) +
            "Get-ChatterConnector -StoreConnectionString $cs | Start-ChatterImport -ErrorVariable failed -ErrorAction SilentlyContinue | " +
            "ForEach-Object { 'RUN {0} {1}' -f $_.ConnectorName, $_.Status }; " +
            "$failed | ForEach-Object { 'ERR {0} {1} {2}' -f $_.FullyQualifiedErrorId, $_.CategoryInfo.Category, $_.TargetObject }";
        var (exit, stdout, stderr) = ModuleShell.Run(script, new Dictionary<string, string> { ["CHATTERCONNECTOR_HOME"] = _t.Sub("home") });
        Assert.True(exit == 0, stderr + stdout);
        Assert.Equal("RUN B Succeeded", Assert.Single(Lines(stdout, "RUN ")));
        Assert.Equal("ERR ChatterImport.ConnectorBusy,ChatterConnector.Commands.StartChatterImportCommand ResourceBusy A", Assert.Single(Lines(stdout, "ERR ")));
        Assert.Empty(store.GetRuns("A"));
    }

    [Fact]
    public void NWorkersAtOnce_ImportEveryDueConnectorOnce()
    {
        var names = new[] { "W1", "W2", "W3", "W4", "W5" };
        CreateConnectors(names);
        var workers = Enumerable.Range(0, 3)
            .Select(_ => ModuleShell.Start("Get-ChatterConnector | Start-ChatterImport -ErrorAction SilentlyContinue | ForEach-Object { 'RUN ' + $_.ConnectorName }", Worker))
            .ToList();
        var outputs = workers.Select(w => (Out: w.StandardOutput.ReadToEndAsync(), Err: w.StandardError.ReadToEndAsync())).ToList();
        foreach (var w in workers)
        {
            if (!w.WaitForExit(180_000)) w.Kill(entireProcessTree: true);
            Assert.Equal(0, w.ExitCode);
            w.Dispose();
        }

        var ran = outputs.SelectMany(o => Lines(o.Out.Result, "RUN ")).ToList();
        Assert.Equal(names.Select(n => "RUN " + n).OrderBy(n => n), ran.OrderBy(n => n));
        using var store = OpenStore();
        var expected = -1;
        foreach (var name in names)
        {
            var run = Assert.Single(store.GetRuns(name));
            Assert.Equal(ImportRunStatus.Succeeded, run.Status);
            Assert.NotNull(run.Worker);
            var archive = ApiImportTests.Archive(_t.Sub("mail-" + name));
            Assert.Equal(archive.Count, archive.Distinct().Count());
            Assert.Equal(run.Imported, archive.Count);
            if (expected < 0) expected = archive.Count;
            Assert.Equal(expected, archive.Count);
        }
        Assert.True(store.GetRuns().Select(r => r.Worker).Distinct().Count() >= 1);
    }

    [Fact]
    public void TwoAdminsChangingOneConnector_TheSecondGetsAConflict_NotALostChange()
    {
        CreateConnectors("Shared");
        // Admin 1 reads the connector and is asked to confirm; meanwhile admin 2 changes it.
        using var admin1 = ModuleShell.Start(
            "Set-ChatterConnector -Name Shared -FolderName 'From admin 1' -Confirm -ErrorVariable failed -ErrorAction SilentlyContinue; " +
            "$failed | ForEach-Object { 'ERR {0} {1}' -f $_.FullyQualifiedErrorId, $_.CategoryInfo.Category }", Worker, interactive: true);
        var stdout = new System.Text.StringBuilder();
        var prompted = new ManualResetEventSlim();
        // The confirmation's message comes in whole lines before its menu (which ends without one).
        admin1.OutputDataReceived += (_, e) => { lock (stdout) stdout.AppendLine(e.Data); if (e.Data?.Contains("Performing the operation") == true) prompted.Set(); };
        admin1.BeginOutputReadLine();
        var stderr = admin1.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!prompted.IsSet && DateTime.UtcNow < deadline && !admin1.HasExited) Thread.Sleep(100);
        if (admin1.HasExited) Assert.Fail("admin 1 did not wait for confirmation: " + stdout + stderr.Result);
        Assert.True(prompted.IsSet, "admin 1 was not asked to confirm: " + stdout);

        var (exit2, out2, err2) = ModuleShell.Run("Set-ChatterConnector -Name Shared -FolderName 'From admin 2'", Worker);
        Assert.True(exit2 == 0 && NoErrors(err2), err2 + out2);

        admin1.StandardInput.WriteLine("y");
        admin1.StandardInput.Close();
        Assert.True(admin1.WaitForExit(60_000));
        admin1.WaitForExit();
        Assert.Contains("ERR ChatterStore.Conflict,ChatterConnector.Commands.SetChatterConnectorCommand ResourceBusy", stdout.ToString());
        using var store = OpenStore();
        Assert.Equal("From admin 2", store.GetConnector("Shared").FolderName);
    }

    [Fact]
    public void AWorkerKilledMidRun_LosesItsLeaseWithinAMinute_AndTheNextFinishesFromTheLedger()
    {
        var script = $"New-ChatterSampleExport -Path '{_t.Sub("export")}' -Users 40 -Posts 600 -Seed 9 | Out-Null; " +
            $"New-ChatterConnector -Name K -SourcePath '{_t.Sub("export")}' -MaildirPath '{_t.Sub("mail")}' | Set-ChatterUserMapping -Automatic";
        var (exit, stdout, stderr) = ModuleShell.Run(script, Worker);
        Assert.True(exit == 0 && NoErrors(stderr), stderr + stdout);

        var killed = ModuleShell.KillWhen("Start-ChatterImport -Name K | Out-Null", () => CountDelivered(_t.Sub("mail")) > 100, Worker);
        Assert.True(killed, "the worker finished before it could be killed");

        using var store = OpenStore();
        Assert.True(store.ReadRunLock("K").Leased, "the dead worker's lease is still there at first");
        var started = Stopwatch.StartNew();
        string output = "";
        while (started.Elapsed < TimeSpan.FromSeconds(75))
        {
            (_, output, _) = ModuleShell.Run("Start-ChatterImport -Name K -ErrorAction SilentlyContinue -ErrorVariable e | ForEach-Object { 'RUN ' + $_.Status }; $e | ForEach-Object { 'ERR ' + $_.FullyQualifiedErrorId }", Worker);
            if (Lines(output, "RUN ").Count > 0) break;
            Assert.Contains("ERR ChatterImport.ConnectorBusy", output);
            Thread.Sleep(2000);
        }
        Assert.Equal("RUN Succeeded", Assert.Single(Lines(output, "RUN ")));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(75), "the lease of the dead worker lapsed within a minute");

        var archive = ApiImportTests.Archive(_t.Sub("mail"));
        Assert.Equal(archive.Count, archive.Distinct().Count());
        Assert.Equal(store.CountDeliveries("K", DeliveryStatus.Imported) + store.CountDeliveries("K", DeliveryStatus.PartiallyImported)
            + store.CountDeliveries("K", DeliveryStatus.SkippedDuplicate), archive.Count);
        Assert.Equal(0, store.CountDeliveries("K", DeliveryStatus.InFlight) + store.CountDeliveries("K", DeliveryStatus.Pending));
        Assert.Contains(store.GetRuns("K"), r => r.Status == ImportRunStatus.Interrupted);
    }

    [Fact]
    public void ABadStore_IsAClearErrorRecord()
    {
        var bad = ConnectionString.Replace(Fakes.Azurite.AccountKey, Convert.ToBase64String(new byte[64]));
        var script = CmdletApiTests.Secure("bad", bad) + CmdletApiTests.Secure("junk", "not a connection string") +
            "foreach ($s in @($bad, $junk)) { try { Get-ChatterConnector -StoreConnectionString $s -ErrorAction Stop } catch { 'ERR {0} {1}' -f $_.FullyQualifiedErrorId, $_.CategoryInfo.Category } }; " +
            "try { Get-ChatterConnector -StorePath x -StoreUri https://a.blob.core.windows.net/c -ErrorAction Stop } catch { 'ERR {0}' -f $_.FullyQualifiedErrorId }; " +
            "try { Get-ChatterConnector -StoreUri https://example.com/x/y -ErrorAction Stop } catch { 'ERR {0}' -f $_.FullyQualifiedErrorId }";
        var (_, stdout, stderr) = ModuleShell.Run(script, new Dictionary<string, string> { ["CHATTERCONNECTOR_HOME"] = _t.Sub("home") });
        var errors = Lines(stdout, "ERR ");
        Assert.True(errors.Count == 4, stdout + stderr);
        Assert.Equal("ERR ChatterStore.AccessDenied,ChatterConnector.Commands.GetChatterConnectorCommand PermissionDenied", errors[0]);
        Assert.Equal("ERR ChatterStore.InvalidConnectionString,ChatterConnector.Commands.GetChatterConnectorCommand InvalidArgument", errors[1]);
        Assert.Equal("ERR ChatterStore.AmbiguousStore,ChatterConnector.Commands.GetChatterConnectorCommand", errors[2]);
        Assert.Equal("ERR ChatterStore.InvalidUri,ChatterConnector.Commands.GetChatterConnectorCommand", errors[3]);
    }
}
