# Loads the cmdlets from dependencies/ through ChatterConnector.Loader. On PowerShell 7 the cmdlets,
# the engine and every library they use live in a load context of the module's own, so the module
# loads beside Az, Microsoft.Graph and ExchangeOnlineManagement even when those carry other versions
# of the same libraries (MSAL, Azure.Core). Windows PowerShell has no load contexts: there the
# libraries are found in dependencies/ as they are needed.
$loader = 'ChatterConnector.Loader.ModuleLoader' -as [type]
if (-not $loader) {
    $loader = [System.Reflection.Assembly]::LoadFrom([System.IO.Path]::Combine($PSScriptRoot, 'ChatterConnector.Loader.dll')).GetType('ChatterConnector.Loader.ModuleLoader', $true)
}
Import-Module -Assembly ($loader::Initialize($PSScriptRoot))
# The engine too, for its types by name ([ChatterConnector.Engine.Model.ChatterImportRun]); it has no commands.
Import-Module -Assembly ($loader::Engine)
