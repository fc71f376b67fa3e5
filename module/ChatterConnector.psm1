# Loads the cmdlets from dependencies/ through ChatterConnector.Loader. On PowerShell 7 the cmdlets,
# the engine and every library they use live in a load context of the module's own, so the module
# loads beside Az, Microsoft.Graph and ExchangeOnlineManagement even when those carry other versions
# of the same libraries (MSAL, Azure.Core). Windows PowerShell has no load contexts: there the
# libraries are found in dependencies/ as they are needed.
$importModule = Get-Command -Name Import-Module -Module Microsoft.PowerShell.Core
$loader = 'ChatterConnector.Loader.ModuleLoader' -as [type]
$reload = $null -ne $loader
if (-not $reload) {
    $loader = [System.Reflection.Assembly]::LoadFrom([System.IO.Path]::Combine($PSScriptRoot, 'ChatterConnector.Loader.dll')).GetType('ChatterConnector.Loader.ModuleLoader', $true)
}
$cmdlets = & $importModule -Assembly ($loader::Initialize($PSScriptRoot)) -PassThru
# The engine too, for its types by name ([ChatterConnector.Engine.Model.ChatterImportRun]); it has no commands.
& $importModule -Assembly ($loader::Engine)

if ($reload) {
    # Imported again in this session (Import-Module -Force): PowerShell reuses the cmdlet assembly's
    # module as it was and does not hand its cmdlets to this module again
    # (https://github.com/PowerShell/PowerShell/issues/20710), so they are handed over here.
    $addExportedCmdlet = [System.Management.Automation.PSModuleInfo].GetMethod('AddExportedCmdlet', [System.Reflection.BindingFlags]'Instance, NonPublic')
    if ($addExportedCmdlet) {
        foreach ($cmdlet in $cmdlets.ExportedCmdlets.Values) { $addExportedCmdlet.Invoke($ExecutionContext.SessionState.Module, @(, $cmdlet)) }
    }
}
