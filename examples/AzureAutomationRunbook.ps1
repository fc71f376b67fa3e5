<#
.SYNOPSIS
    An Azure Automation runbook: imports every due Chatter connector of a shared store, with
    several workers at once.
.DESCRIPTION
    Link this runbook to one schedule (hourly, say). The scheduled job starts Workers - 1 more jobs
    of this runbook with -Worker, then works itself; every job pipes all the connectors of the store
    to Start-ChatterImport. A connector another job holds is skipped with the non-terminating error
    ChatterImport.ConnectorBusy; a connector that is not due is skipped quietly. So each due
    connector is imported once per schedule, by whichever worker reaches it first, and a job that
    dies mid-run loses its lease within 30 seconds: the next schedule resumes it from its ledger,
    with no duplicate.

    What the Automation account needs (see docs/setup/azure-automation.md):
    - the ChatterConnector module imported (PowerShell 7.x runtime);
    - a system-assigned managed identity with Storage Blob Data Contributor and Storage Table Data
      Contributor on the storage account (and Automation Job Operator on the Automation account,
      to start the other workers);
    - an encrypted variable ChatterConnectorStoreKey: the key of the secrets in the shared store
      (the base64 of 32 random bytes), the same for every admin and worker.
.PARAMETER StoreUri
    The shared store: the URI of its blob container, e.g.
    https://contosoarchive.blob.core.windows.net/chatterconnector
.PARAMETER Workers
    How many jobs import at once (1 = this job alone).
.PARAMETER Worker
    Set on the jobs this runbook starts: they work and start no one else.
.PARAMETER AutomationAccountName
    The Automation account and resource group to start the other workers in.
.PARAMETER ResourceGroupName
    The Automation account's resource group.
.EXAMPLE
    # In the portal: link to a schedule with StoreUri, Workers 4, AutomationAccountName and ResourceGroupName.
    ./AzureAutomationRunbook.ps1 -StoreUri https://contosoarchive.blob.core.windows.net/chatterconnector -Workers 4 -AutomationAccountName chatter-aa -ResourceGroupName chatter-rg
#>
param(
    [Parameter(Mandatory)] [string] $StoreUri,
    [ValidateRange(1, 50)] [int] $Workers = 4,
    [switch] $Worker,
    [string] $AutomationAccountName,
    [string] $ResourceGroupName
)
$ErrorActionPreference = 'Stop'
Import-Module ChatterConnector

# The shared store's secrets are encrypted with this key; it never lives in the storage account.
$env:CHATTERCONNECTOR_STORE_KEY = Get-AutomationVariable -Name 'ChatterConnectorStoreKey'

if (-not $Worker -and $Workers -gt 1) {
    Connect-AzAccount -Identity | Out-Null
    # This runbook's own name, from this job.
    $runbook = (Get-AzAutomationJob -Id $PSPrivateMetadata.JobId.Guid -AutomationAccountName $AutomationAccountName -ResourceGroupName $ResourceGroupName).RunbookName
    foreach ($n in 2..$Workers) {
        Start-AzAutomationRunbook -AutomationAccountName $AutomationAccountName -ResourceGroupName $ResourceGroupName -Name $runbook `
            -Parameters @{ StoreUri = $StoreUri; Worker = $true } | Out-Null
    }
    Write-Output "Started $($Workers - 1) more workers of '$runbook'."
}

# Every connector of the store; Start-ChatterImport runs the due ones it can lease, one at a time,
# and writes the others' reasons as non-terminating errors, so one bad connector stops no other.
$ErrorActionPreference = 'Continue'
$runs = Get-ChatterConnector -StoreUri $StoreUri |
    Start-ChatterImport -ErrorVariable problems -ErrorAction SilentlyContinue

foreach ($run in $runs) {
    Write-Output ('{0}: {1}, {2} imported, {3} failed, {4} unmapped ({5:N0} s, worker {6})' -f $run.ConnectorName, $run.Status, $run.Imported, $run.Failed, $run.Unmapped, $run.Duration.TotalSeconds, $run.Worker)
}
foreach ($problem in $problems) {
    if ($problem.FullyQualifiedErrorId -like 'ChatterImport.ConnectorBusy*') {
        Write-Output "Skipped '$($problem.TargetObject)': another worker is importing it."
    }
    else {
        # Stays in the job's error stream, so the job shows as having errors and alerts can fire.
        Write-Error -ErrorRecord $problem
    }
}
