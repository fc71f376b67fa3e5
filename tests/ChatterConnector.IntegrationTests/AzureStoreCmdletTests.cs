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
    public void FourWorkerProcessesOnTwentyConnectors_DeliverEveryMessageOnce_AndNoConnectorRanOnTwoAtOnce()
    {
        var names = Enumerable.Range(1, 20).Select(i => $"W{i:00}").ToArray();
        CreateConnectors(names);
        // Each worker lists the connectors first (and so loads the module), then all four start importing
        // at once when the go file appears: every worker walks the same list, as runbooks on one schedule do.
        var go = _t.Sub("go");
        var workers = Enumerable.Range(0, 4)
            .Select(_ => ModuleShell.Start(
                "$all = Get-ChatterConnector; " +
                $"while (-not [System.IO.File]::Exists('{go}')) {{ [System.Threading.Thread]::Sleep(20) }}; " +
                "$all | Start-ChatterImport -ErrorAction SilentlyContinue | ForEach-Object { 'RUN ' + $_.ConnectorName }", Worker))
            .ToList();
        var outputs = workers.Select(w => (Out: w.StandardOutput.ReadToEndAsync(), Err: w.StandardError.ReadToEndAsync())).ToList();
        Thread.Sleep(3000);
        File.WriteAllText(go, "");
        foreach (var w in workers)
        {
            if (!w.WaitForExit(120_000)) w.Kill(entireProcessTree: true);
            Assert.Equal(0, w.ExitCode);
            w.Dispose();
        }

        // Each connector ran once, on one worker.
        var ran = outputs.SelectMany(o => Lines(o.Out.Result, "RUN ")).ToList();
        Assert.Equal(names.Select(n => "RUN " + n).OrderBy(n => n), ran.OrderBy(n => n));
        using var store = OpenStore();
        var expected = -1;
        var workersThatRan = new HashSet<string>();
        foreach (var name in names)
        {
            var run = Assert.Single(store.GetRuns(name));
            Assert.Equal(ImportRunStatus.Succeeded, run.Status);
            Assert.NotNull(run.Worker);
            workersThatRan.Add(run.Worker!);

            // Every lease on the connector was let go before the next was taken: no two workers held it at once
            // (each history row lies within its hold: from the grant to just before the release), and the run
            // lay inside a lease of its own worker.
            var leases = store.GetRunLockHistory(name);
            Assert.NotEmpty(leases);
            Assert.All(leases, l => Assert.True(l.Released != null && !l.Lost, $"{name}: the lease of {l.Holder} was not released"));
            for (var i = 1; i < leases.Count; i++)
                Assert.True(leases[i - 1].Released <= leases[i].Acquired,
                    $"{name}: {leases[i - 1].Holder} held it {leases[i - 1].Acquired:O}–{leases[i - 1].Released:O}, {leases[i].Holder} took it at {leases[i].Acquired:O}");
            Assert.Contains(leases, l => l.Holder == run.Worker && l.Acquired <= run.StartTime && run.EndTime <= l.Released);

            // The Maildir holds each message once, and as many as the ledger says were delivered.
            var archive = ApiImportTests.Archive(_t.Sub("mail-" + name));
            Assert.Equal(archive.Count, archive.Distinct().Count());
            Assert.Equal(store.CountDeliveries(name, DeliveryStatus.Imported) + store.CountDeliveries(name, DeliveryStatus.PartiallyImported), archive.Count);
            Assert.Equal(run.Imported + run.PartiallyImported, archive.Count);
            if (expected < 0) expected = archive.Count;
            Assert.Equal(expected, archive.Count);
        }
        Assert.True(expected > 50);
        // The work was shared: the four processes are four lock holders, and at least three of them ran connectors.
        Assert.Equal(4, store.GetRunLockHistory().Select(l => l.Holder).Distinct().Count());
        Assert.True(workersThatRan.Count >= 3, "connectors ran on " + string.Join(", ", workersThatRan));
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
        var started = Stopwatch.StartNew();

        using var store = OpenStore();
        var (deadHolder, leased) = store.ReadRunLock("K");
        Assert.True(leased, "the dead worker's lease is still there at first");
        string output = "";
        // Each try is a new worker process (another process id, so another lock holder).
        while (started.Elapsed < TimeSpan.FromSeconds(60))
        {
            (_, output, _) = ModuleShell.Run("Start-ChatterImport -Name K -ErrorAction SilentlyContinue -ErrorVariable e | ForEach-Object { 'RUN ' + $_.Status }; $e | ForEach-Object { 'ERR ' + $_.FullyQualifiedErrorId }", Worker);
            if (Lines(output, "RUN ").Count > 0) break;
            Assert.Contains("ERR ChatterImport.ConnectorBusy", output);
            Thread.Sleep(2000);
        }
        Assert.Equal("RUN Succeeded", Assert.Single(Lines(output, "RUN ")));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(60), $"another worker took over {started.Elapsed.TotalSeconds:N0} s after the kill, not within a minute");

        // The dead worker's run and lease ended without it; another worker process took the lease and ran.
        var runs = store.GetRuns("K").ToList();
        var dead = Assert.Single(runs, r => r.Status == ImportRunStatus.Interrupted);
        var takeover = Assert.Single(runs, r => r.Status == ImportRunStatus.Succeeded);
        Assert.Equal(deadHolder, dead.Worker);
        Assert.NotEqual(Pid(dead.Worker!), Pid(takeover.Worker!));
        var leases = store.GetRunLockHistory("K");
        var first = leases[0];
        Assert.Equal(deadHolder, first.Holder);
        Assert.Null(first.Released);
        Assert.All(leases.Skip(1), l => Assert.True(l.Acquired > first.Acquired && l.Holder != deadHolder));
        Assert.Contains(leases, l => l.Holder == takeover.Worker && l.Acquired <= takeover.StartTime && takeover.EndTime <= l.Released);

        var archive = ApiImportTests.Archive(_t.Sub("mail"));
        Assert.Equal(archive.Count, archive.Distinct().Count());
        Assert.Equal(store.CountDeliveries("K", DeliveryStatus.Imported) + store.CountDeliveries("K", DeliveryStatus.PartiallyImported)
            + store.CountDeliveries("K", DeliveryStatus.SkippedDuplicate), archive.Count);
        Assert.Equal(0, store.CountDeliveries("K", DeliveryStatus.InFlight) + store.CountDeliveries("K", DeliveryStatus.Pending));
    }

    /// <summary>The process id in a lock holder (machine/pid/worker id).</summary>
    private static string Pid(string holder) => holder.Split('/')[1];

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
