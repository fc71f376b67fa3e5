<#
.SYNOPSIS
    The front door for pwsh users: Build, Test, Package or Clean.
.DESCRIPTION
    Build lays out the importable module in out/ChatterConnector. Test runs every test (the
    xUnit suites, then the Pester suite). Package zips out/ChatterConnector. Clean removes out/
    and the build folders.
.EXAMPLE
    ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Package', 'Clean')]
    [string] $Task = 'Build',
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug'
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

switch ($Task) {
    'Build' {
        dotnet build ChatterConnector.sln -c $Configuration
        if ($LASTEXITCODE) { throw "dotnet build failed ($LASTEXITCODE)." }
    }
    'Test' {
        dotnet build ChatterConnector.sln -c $Configuration
        if ($LASTEXITCODE) { throw "dotnet build failed ($LASTEXITCODE)." }
        dotnet test ChatterConnector.sln -c $Configuration --no-build
        if ($LASTEXITCODE) { throw "The xUnit suites failed." }
        if (Get-Module -ListAvailable Pester | Where-Object Version -ge 5.0.0) {
            $config = New-PesterConfiguration
            $config.Run.Path = 'tests/pester'
            $config.Run.Exit = $true
            Invoke-Pester -Configuration $config
        }
        else {
            Write-Warning 'Pester 5 is not installed: the Pester suite was skipped.'
        }
    }
    'Package' {
        dotnet build src/ChatterConnector -c Release
        if ($LASTEXITCODE) { throw "dotnet build failed ($LASTEXITCODE)." }
        $version = (Import-PowerShellDataFile ./ChatterConnector.psd1).ModuleVersion
        Compress-Archive -Path out/ChatterConnector -DestinationPath "out/ChatterConnector-$version.zip" -Force
    }
    'Clean' {
        Remove-Item -Recurse -Force out, src/*/bin, src/*/obj, tests/*/bin, tests/*/obj, bench/*/bin, bench/*/obj -ErrorAction SilentlyContinue
    }
}
