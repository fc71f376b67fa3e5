#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The help gate: every exported command has a synopsis that is not the generated syntax, a
# description, an example, and a description for every parameter. Run `dotnet build` first.

BeforeDiscovery {
    Import-Module "$PSScriptRoot/../../out/ChatterConnector/ChatterConnector.psd1" -Force -ErrorAction Stop
    $common = @([System.Management.Automation.Cmdlet]::CommonParameters)
    $commands = @((Get-Module ChatterConnector).ExportedCommands.Keys | Sort-Object | ForEach-Object {
        @{
            Name       = $_
            Parameters = @((Get-Command -Name $_).Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object)
        }
    })
}

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/ChatterConnector/ChatterConnector.psd1" -Force -ErrorAction Stop
}

Describe 'The module' {
    It 'exports its cmdlets' {
        (Get-Module ChatterConnector).ExportedCommands.Count | Should -BeGreaterOrEqual 15
    }

    It 'has a docs page for every exported command, and no page for a command it does not have' {
        $exported = @((Get-Module ChatterConnector).ExportedCommands.Keys)
        $pages = @(Get-ChildItem -LiteralPath "$PSScriptRoot/../../docs" -Filter '*.md' |
            Where-Object { $_.BaseName -notlike 'about_*' } |
            ForEach-Object BaseName)
        # New-ChatterSampleExport is documented before it is merged into every branch.
        $pages | Where-Object { $_ -notin $exported -and $_ -ne 'New-ChatterSampleExport' } | Should -BeNullOrEmpty
        $exported | Where-Object { $_ -notin $pages } | Should -BeNullOrEmpty
        Test-Path -LiteralPath "$PSScriptRoot/../../docs/about_ChatterConnector.md" | Should -BeTrue
    }

    It 'ships the about_ChatterConnector topic' {
        $base = (Get-Module ChatterConnector).ModuleBase
        Test-Path -LiteralPath "$base/en-US/about_ChatterConnector.help.txt" | Should -BeTrue
        Test-Path -LiteralPath "$base/en-US/ChatterConnector.dll-Help.xml" | Should -BeTrue
    }
}

Describe 'Help for <Name>' -ForEach $commands {
    BeforeAll {
        $help = Get-Help -Name $Name -Full
    }

    It 'has a synopsis that is not the generated syntax' {
        $synopsis = "$($help.Synopsis)".Trim()
        $synopsis | Should -Not -BeNullOrEmpty
        $synopsis | Should -Not -BeLike "$Name *"
        $synopsis | Should -Not -BeLike '*`[<CommonParameters>`]*'
    }

    It 'has a description' {
        (@($help.description) | ForEach-Object Text) -join '' | Should -Not -BeNullOrEmpty
    }

    It 'has at least one example with code' {
        @($help.examples.example).Count | Should -BeGreaterThan 0
        @($help.examples.example)[0].code | Should -Not -BeNullOrEmpty
    }

    It 'describes -<_>' -ForEach $Parameters {
        $parameter = @($help.parameters.parameter) | Where-Object name -eq $_
        $parameter | Should -Not -BeNullOrEmpty -Because "-$_ must be in the help"
        (@($parameter.description) | ForEach-Object Text) -join '' | Should -Not -BeNullOrEmpty
    }
}
