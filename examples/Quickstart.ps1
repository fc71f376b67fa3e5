<#
.SYNOPSIS
    Archives a generated sample Salesforce org into a local Maildir and prints the run summary
    and the log's problems.
.DESCRIPTION
    Needs no Salesforce or Microsoft 365 account. Generates a Salesforce data export under
    <Path>/export, creates a connector "Quickstart" in the store <Path>/store, maps users by
    their email, imports into <Path>/maildir, and prints the run and the log entries that need
    attention. Run it again: nothing new is imported, and nothing is delivered twice.
.EXAMPLE
    ./examples/Quickstart.ps1
.EXAMPLE
    ./examples/Quickstart.ps1 -Path ./demo -Users 100 -Posts 2000
#>
[CmdletBinding()]
param(
    [string] $Path = './quickstart',
    [int] $Users = 25,
    [int] $Posts = 200,
    [int] $Seed = 42
)
$ErrorActionPreference = 'Stop'

$root = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
# .NET path calls rather than Join-Path/Test-Path: the script also runs in ChatterConnector.Shell,
# whose PowerShell engine carries only the core cmdlets.
$export = [System.IO.Path]::Combine($root, 'export')
$store = [System.IO.Path]::Combine($root, 'store')
$maildir = [System.IO.Path]::Combine($root, 'maildir')

if (-not [System.IO.File]::Exists([System.IO.Path]::Combine($export, 'User.csv'))) {
    Write-Host "Generating a sample Salesforce export in $export"
    New-ChatterSampleExport -Path $export -Users $Users -Posts $Posts -Seed $Seed | Out-Default
}

$connector = Get-ChatterConnector -StorePath $store -Name Quickstart -ErrorAction SilentlyContinue
if (-not $connector) {
    Write-Host "Creating the connector 'Quickstart' (store: $store)"
    $connector = New-ChatterConnector -Name Quickstart -SourcePath $export -MaildirPath $maildir -StorePath $store |
        Set-ChatterUserMapping -Automatic -PassThru
}

Write-Host "`nImporting into $maildir"
$run = $connector | Start-ChatterImport -Force -ErrorAction Continue
# Out-Default per section, so each prints with its own table view.
$run | Out-Default

Write-Host "`nLog entries that need attention (failed, partially imported, unmapped):"
$run | Get-ChatterConnectorLog -Status Failed, PartiallyImported, Unmapped | Out-Default

Write-Host "`nThe archive: one Maildir per mailbox, the messages in '.Salesforce Chatter/cur'."
Write-Host "Get-ChatterConnectorLog -Name Quickstart -StorePath '$store' shows the whole log."
