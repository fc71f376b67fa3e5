#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# User stories of ChatterConnector, run against the built module in out/ChatterConnector.
# Run `dotnet build` first, then: Invoke-Pester ./tests/pester

Describe 'ChatterConnector' {
    BeforeAll {
        Import-Module "$PSScriptRoot/../../out/ChatterConnector/ChatterConnector.psd1" -Force -ErrorAction Stop
        $ProgressPreference = 'SilentlyContinue'

        $export = "$TestDrive/export"
        $summary = New-ChatterSampleExport -Path $export -Users 20 -Posts 50 -Seed 7

        # A fresh store and Maildir for each test, so that tests never see each other's connectors.
        function New-TestPaths {
            $id = [guid]::NewGuid().ToString('N').Substring(0, 8)
            @{ Store = "$TestDrive/store-$id"; Mail = "$TestDrive/maildir-$id" }
        }

        function Get-ArchivedFile([string] $MaildirPath) {
            if (-not (Test-Path -LiteralPath $MaildirPath)) { return @() }
            @(Get-ChildItem -LiteralPath $MaildirPath -Directory | ForEach-Object {
                $cur = Join-Path $_.FullName '.Salesforce Chatter/cur'
                if (Test-Path -LiteralPath $cur) { Get-ChildItem -LiteralPath $cur -File }
            })
        }
    }

    Context 'An admin at a prompt: create, map, import, read the log' {
        BeforeAll {
            $p = New-TestPaths
            $failed = @(New-ChatterConnector -Name Contoso -SourcePath $export -MaildirPath $p.Mail -StorePath $p.Store |
                Set-ChatterUserMapping -Automatic -DefaultMailbox archive@contoso.com -PassThru |
                Start-ChatterImport -WarningAction SilentlyContinue |
                Get-ChatterConnectorLog -Status Failed)
            $run = Get-ChatterImportRun -Name Contoso -StorePath $p.Store
            $log = @(Get-ChatterConnectorLog -Name Contoso -StorePath $p.Store)
        }

        It 'writes the sample export it was asked for' {
            $summary.Users | Should -Be 20
            $summary.Posts | Should -Be 50
            $summary.Items | Should -BeGreaterThan 50
            Test-Path -LiteralPath "$export/User.csv" | Should -BeTrue
        }

        It 'runs once and records the run' {
            @($run) | Should -HaveCount 1
            $run.ConnectorName | Should -Be 'Contoso'
            $run.Status | Should -BeIn @('Succeeded', 'CompletedWithErrors')
            $run.ItemsAvailable | Should -BeGreaterThan 0
        }

        It 'fails nothing and leaves no user unmapped when there is a default mailbox' {
            $failed | Should -BeNullOrEmpty
            $run.Failed | Should -Be 0
            $run.Unmapped | Should -Be 0
        }

        It 'accounts for every delivery after fan-out' {
            $run.MessagesAfterFanout | Should -BeGreaterThan $run.ItemsAvailable
            ($run.Imported + $run.PartiallyImported + $run.SkippedDuplicates + $run.Failed + $run.Unmapped) | Should -Be $run.MessagesAfterFanout
            $log | Should -HaveCount $run.MessagesAfterFanout
        }

        It 'archives one message file per delivered log entry in <mailbox>/.Salesforce Chatter/cur' {
            $delivered = @($log | Where-Object { $_.Status -in 'Imported', 'PartiallyImported' })
            (Get-ArchivedFile $p.Mail) | Should -HaveCount $delivered.Count
            Test-Path -LiteralPath "$($p.Mail)/archive@contoso.com/.Salesforce Chatter/cur" | Should -BeTrue
        }

        It 'a rerun imports nothing' {
            $before = (Get-ArchivedFile $p.Mail).Count
            $again = Start-ChatterImport -Name Contoso -StorePath $p.Store -Force
            $again.ItemsAvailable | Should -Be 0
            ($again.Imported + $again.PartiallyImported) | Should -Be 0
            (Get-ArchivedFile $p.Mail).Count | Should -Be $before
            @(Get-ChatterImportRun -Name Contoso -StorePath $p.Store) | Should -HaveCount 2
        }

        It 'skips a connector that is not due yet unless -Force is given' {
            Start-ChatterImport -Name Contoso -StorePath $p.Store | Should -BeNullOrEmpty
        }

        It 'skips a suspended connector with a warning' {
            Suspend-ChatterConnector -Name Contoso -StorePath $p.Store
            $out = Start-ChatterImport -Name Contoso -StorePath $p.Store -WarningVariable warnings -WarningAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            $warnings | Should -Not -BeNullOrEmpty
            Resume-ChatterConnector -Name Contoso -StorePath $p.Store -PassThru | ForEach-Object Suspended | Should -BeFalse
        }
    }

    Context '-WhatIf changes nothing' {
        BeforeEach {
            $p = New-TestPaths
            $null = New-ChatterConnector -Name Existing -SourcePath $export -MaildirPath $p.Mail -StorePath $p.Store -Schedule 02:00:00
        }

        It 'New-ChatterConnector -WhatIf creates no connector' {
            New-ChatterConnector -Name Other -SourcePath $export -MaildirPath $p.Mail -StorePath $p.Store -WhatIf | Should -BeNullOrEmpty
            Get-ChatterConnector -Name Other* -StorePath $p.Store | Should -BeNullOrEmpty
        }

        It 'Set-ChatterConnector -WhatIf changes no setting' {
            Set-ChatterConnector -Name Existing -StorePath $p.Store -Schedule 05:00:00 -FolderName Other -WhatIf -PassThru | Should -BeNullOrEmpty
            $c = Get-ChatterConnector -Name Existing -StorePath $p.Store
            $c.Schedule | Should -Be ([timespan]'02:00:00')
            $c.FolderName | Should -Be 'Salesforce Chatter'
        }

        It 'Set-ChatterUserMapping -WhatIf changes no mapping' {
            Set-ChatterUserMapping -Name Existing -StorePath $p.Store -Automatic -DefaultMailbox a@contoso.com -WhatIf
            $c = Get-ChatterConnector -Name Existing -StorePath $p.Store
            $c.AutomaticMapping | Should -BeFalse
            $c.DefaultMailbox | Should -BeNullOrEmpty
        }

        It 'Remove-ChatterConnector -WhatIf removes nothing' {
            Remove-ChatterConnector -Name Existing -StorePath $p.Store -WhatIf
            Get-ChatterConnector -Name Existing -StorePath $p.Store | Should -Not -BeNullOrEmpty
        }

        It 'Start-ChatterImport -WhatIf imports nothing and records no run' {
            Set-ChatterUserMapping -Name Existing -StorePath $p.Store -Automatic -DefaultMailbox archive@contoso.com
            Start-ChatterImport -Name Existing -StorePath $p.Store -WhatIf | Should -BeNullOrEmpty
            Start-ChatterImport -Name Existing -StorePath $p.Store -Force -WhatIf | Should -BeNullOrEmpty
            Get-ChatterImportRun -Name Existing -StorePath $p.Store | Should -BeNullOrEmpty
            Get-ChatterConnectorLog -Name Existing -StorePath $p.Store | Should -BeNullOrEmpty
            Test-Path -LiteralPath $p.Mail | Should -BeFalse
        }

        It 'Suspend-ChatterConnector -WhatIf does not suspend' {
            Suspend-ChatterConnector -Name Existing -StorePath $p.Store -WhatIf
            (Get-ChatterConnector -Name Existing -StorePath $p.Store).Suspended | Should -BeFalse
        }

        It 'Remove-ChatterConnector removes the connector when confirmed' {
            Remove-ChatterConnector -Name Existing -StorePath $p.Store -Confirm:$false | Should -BeNullOrEmpty
            Get-ChatterConnector -Name Existing* -StorePath $p.Store | Should -BeNullOrEmpty
        }
    }

    Context 'Error ids' {
        BeforeEach {
            $p = New-TestPaths
            $null = New-ChatterConnector -Name Dup -SourcePath $export -MaildirPath $p.Mail -StorePath $p.Store
        }

        It 'a duplicate name is ChatterConnector.NameExists' {
            { New-ChatterConnector -Name Dup -SourcePath $export -MaildirPath $p.Mail -StorePath $p.Store -ErrorAction Stop } |
                Should -Throw -ErrorId 'ChatterConnector.NameExists,ChatterConnector.Commands.NewChatterConnectorCommand'
        }

        It 'a duplicate name is a non-terminating error with its category and target' {
            $out = New-ChatterConnector -Name Dup -SourcePath $export -MaildirPath $p.Mail -StorePath $p.Store -ErrorVariable err -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -Be 'ChatterConnector.NameExists,ChatterConnector.Commands.NewChatterConnectorCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ResourceExists'
            $err[0].TargetObject | Should -Be 'Dup'
        }

        It 'an unknown connector is ChatterConnector.NotFound' {
            { Get-ChatterConnector -Name Nope -StorePath $p.Store -ErrorAction Stop } |
                Should -Throw -ErrorId 'ChatterConnector.NotFound,ChatterConnector.Commands.GetChatterConnectorCommand'
            { Start-ChatterImport -Name Nope -StorePath $p.Store -ErrorAction Stop } |
                Should -Throw -ErrorId 'ChatterConnector.NotFound,ChatterConnector.Commands.StartChatterImportCommand'
            Set-ChatterConnector -Name Nope -StorePath $p.Store -Schedule 01:00:00 -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -Be 'ChatterConnector.NotFound,ChatterConnector.Commands.SetChatterConnectorCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err[0].TargetObject | Should -Be 'Nope'
        }

        It 'a wildcard that matches nothing is not an error' {
            Get-ChatterConnector -Name Nope* -StorePath $p.Store -ErrorVariable err | Should -BeNullOrEmpty
            $err | Should -BeNullOrEmpty
        }

        It 'a missing export folder at import is ChatterSource.FolderNotFound' {
            $missing = "$TestDrive/no-such-export"
            $null = New-ChatterConnector -Name Gone -SourcePath $missing -MaildirPath $p.Mail -StorePath $p.Store -WarningAction SilentlyContinue
            { Start-ChatterImport -Name Gone -StorePath $p.Store -ErrorAction Stop } |
                Should -Throw -ErrorId 'ChatterSource.FolderNotFound,ChatterConnector.Commands.StartChatterImportCommand'
            Start-ChatterImport -Name Gone -StorePath $p.Store -Force -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }

        It 'a schedule under one minute is ChatterConnector.InvalidSchedule' {
            { New-ChatterConnector -Name Fast -SourcePath $export -MaildirPath $p.Mail -StorePath $p.Store -Schedule 00:00:10 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ChatterConnector.InvalidSchedule,ChatterConnector.Commands.NewChatterConnectorCommand'
        }

        It 'New-ChatterSampleExport refuses a folder that is not empty' {
            { New-ChatterSampleExport -Path $export -Users 2 -Posts 1 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ChatterSample.FolderNotEmpty,ChatterConnector.Commands.NewChatterSampleExportCommand'
        }
    }

    Context 'An MSP with many tenants' {
        BeforeAll {
            $p = New-TestPaths
            $csv = "$TestDrive/tenants.csv"
            @(
                'Name,SourcePath,MaildirPath,StorePath,AcceptedDomain,Schedule'
                "contoso-eu,$export,$($p.Mail)/contoso-eu,$($p.Store),contoso.com,06:00:00"
                "contoso-us,$export,$($p.Mail)/contoso-us,$($p.Store),contoso.com,06:00:00"
                "fabrikam,$export,$($p.Mail)/fabrikam,$($p.Store),fabrikam.com,1.00:00:00"
            ) | Set-Content -LiteralPath $csv -Encoding utf8
        }

        It 'Import-Csv tenants.csv | New-ChatterConnector creates one connector per row' {
            $created = @(Import-Csv -LiteralPath $csv | New-ChatterConnector)
            $created | Should -HaveCount 3
            $created.Name | Should -Be @('contoso-eu', 'contoso-us', 'fabrikam')
            $created[0].Schedule | Should -Be ([timespan]'06:00:00')
            $created[0].AcceptedDomain | Should -Be @('contoso.com')
            @(Get-ChatterConnector -StorePath $p.Store) | Should -HaveCount 3
        }

        It 'importing the same CSV again writes one NameExists error per row and creates nothing' {
            $out = Import-Csv -LiteralPath $csv | New-ChatterConnector -ErrorVariable err -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            $err | Should -HaveCount 3
            $err | ForEach-Object { $_.FullyQualifiedErrorId | Should -BeLike 'ChatterConnector.NameExists,*' }
        }

        It 'Get-ChatterConnector -Name contoso-* | Set-ChatterConnector -Schedule 01:00:00 changes only those' {
            Get-ChatterConnector -Name contoso-* -StorePath $p.Store | Set-ChatterConnector -Schedule 01:00:00
            (Get-ChatterConnector -Name contoso-eu, contoso-us -StorePath $p.Store).Schedule | Should -Be @([timespan]'01:00:00', [timespan]'01:00:00')
            (Get-ChatterConnector -Name fabrikam -StorePath $p.Store).Schedule | Should -Be ([timespan]'1.00:00:00')
        }

        It 'Get-ChatterConnector | Start-ChatterImport runs every connector' {
            $runs = @(Get-ChatterConnector -StorePath $p.Store |
                Set-ChatterUserMapping -Automatic -DefaultMailbox archive@contoso.com -PassThru -ErrorAction SilentlyContinue |
                Start-ChatterImport -WarningAction SilentlyContinue)
            $runs | Should -HaveCount 3
            $runs.ConnectorName | Should -Be @('contoso-eu', 'contoso-us', 'fabrikam')
            $runs | ForEach-Object { $_.ItemsAvailable | Should -BeGreaterThan 0 }
        }
    }

    Context 'Moving a connector to another store' {
        BeforeAll {
            $from = New-TestPaths
            $to = New-TestPaths
            New-ChatterConnector -Name Moving -SourcePath $export -MaildirPath $from.Mail -StorePath $from.Store |
                Set-ChatterUserMapping -Automatic -DefaultMailbox archive@contoso.com -PassThru |
                Start-ChatterImport -WarningAction SilentlyContinue | Out-Null
            $whatIf = "$TestDrive/store-whatif"
            Copy-ChatterConnector -Name Moving -StorePath $from.Store -DestinationStorePath $whatIf -WhatIf
            $copy = Copy-ChatterConnector -Name Moving -StorePath $from.Store -DestinationStorePath $to.Store -PassThru -WarningAction SilentlyContinue
        }

        It '-WhatIf creates no store' {
            Test-Path -LiteralPath $whatIf | Should -BeFalse
        }

        It 'copies the definition and its history' {
            $copy.Name | Should -Be 'Moving'
            $copy.MaildirPath | Should -Be (Get-ChatterConnector -Name Moving -StorePath $from.Store).MaildirPath
            @(Get-ChatterImportRun -Name Moving -StorePath $to.Store) | Should -HaveCount 1
            @(Get-ChatterConnectorLog -Name Moving -StorePath $to.Store).Count |
                Should -Be @(Get-ChatterConnectorLog -Name Moving -StorePath $from.Store).Count
        }

        It 'keeps exactly-once: the copy imports nothing that was imported already' {
            $again = Start-ChatterImport -Name Moving -StorePath $to.Store -Force -WarningAction SilentlyContinue
            ($again.Imported + $again.PartiallyImported) | Should -Be 0
        }

        It 'will not overwrite a connector of that name unless told to' {
            Copy-ChatterConnector -Name Moving -StorePath $from.Store -DestinationStorePath $to.Store -ErrorVariable err -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -Be 'ChatterConnector.NameExists,ChatterConnector.Commands.CopyChatterConnectorCommand'
            Copy-ChatterConnector -Name Moving -StorePath $from.Store -DestinationStorePath $to.Store -Force -Confirm:$false -WarningAction SilentlyContinue -ErrorAction Stop
        }

        It 'refuses two stores at once with a clear error id' {
            $key = ConvertTo-SecureString 'UseDevelopmentStorage=true' -AsPlainText -Force
            { Get-ChatterConnector -StorePath $from.Store -StoreConnectionString $key -ErrorAction Stop } |
                Should -Throw -ErrorId 'ChatterStore.AmbiguousStore,ChatterConnector.Commands.GetChatterConnectorCommand'
        }
    }

    Context 'Moving a Microsoft Graph connector to a managed identity' {
        BeforeAll {
            $p = New-TestPaths
            $secret = ConvertTo-SecureString 'app-secret' -AsPlainText -Force
            New-ChatterConnector -Name Graph -SourcePath $export -StorePath $p.Store -TenantId contoso.com -ClientId app -ClientSecret $secret | Out-Null
        }

        It 'replaces the client secret with the managed identity' {
            $c = Set-ChatterConnector -Name Graph -StorePath $p.Store -ManagedIdentity -PassThru
            $c.Graph.ManagedIdentity | Should -BeTrue
            $c.Graph.ClientSecret | Should -BeNullOrEmpty
        }

        It 'refuses two sign-ins in one command and changes nothing' {
            Set-ChatterConnector -Name Graph -StorePath $p.Store -ManagedIdentity -ClientSecret $secret -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -Be 'ChatterConnector.GraphSignInAmbiguous,ChatterConnector.Commands.SetChatterConnectorCommand'
            (Get-ChatterConnector -Name Graph -StorePath $p.Store).Graph.ManagedIdentity | Should -BeTrue
        }
    }

    Context 'Output types' {
        BeforeAll {
            $p = New-TestPaths
            $connector = New-ChatterConnector -Name Types -SourcePath $export -MaildirPath $p.Mail -StorePath $p.Store
            $mapped = $connector | Set-ChatterUserMapping -Automatic -DefaultMailbox archive@contoso.com -PassThru
            $run = $mapped | Start-ChatterImport -WarningAction SilentlyContinue
        }

        It '<Command> declares <Type>' -ForEach @(
            @{ Command = 'New-ChatterConnector'; Type = 'ChatterConnector.Engine.Model.ChatterConnectorInfo' }
            @{ Command = 'Get-ChatterConnector'; Type = 'ChatterConnector.Engine.Model.ChatterConnectorInfo' }
            @{ Command = 'Set-ChatterConnector'; Type = 'ChatterConnector.Engine.Model.ChatterConnectorInfo' }
            @{ Command = 'Suspend-ChatterConnector'; Type = 'ChatterConnector.Engine.Model.ChatterConnectorInfo' }
            @{ Command = 'Resume-ChatterConnector'; Type = 'ChatterConnector.Engine.Model.ChatterConnectorInfo' }
            @{ Command = 'Set-ChatterUserMapping'; Type = 'ChatterConnector.Engine.Model.ChatterConnectorInfo' }
            @{ Command = 'Get-ChatterUserMapping'; Type = 'ChatterConnector.Engine.Model.ChatterUserMappingEntry' }
            @{ Command = 'Test-ChatterConnector'; Type = 'ChatterConnector.Commands.ChatterConnectorTestResult' }
            @{ Command = 'Start-ChatterImport'; Type = 'ChatterConnector.Engine.Model.ChatterImportRun' }
            @{ Command = 'Get-ChatterImportRun'; Type = 'ChatterConnector.Engine.Model.ChatterImportRun' }
            @{ Command = 'Get-ChatterConnectorLog'; Type = 'ChatterConnector.Engine.Model.ChatterLogEntry' }
            @{ Command = 'Get-ChatterItem'; Type = 'ChatterConnector.Engine.Model.ChatterItem' }
            @{ Command = 'ConvertTo-ChatterMessage'; Type = 'ChatterConnector.Engine.Conversion.ChatterMessage' }
            @{ Command = 'Export-ChatterMessage'; Type = 'System.IO.FileInfo' }
            @{ Command = 'New-ChatterSampleExport'; Type = 'ChatterConnector.Engine.Sources.Sample.SampleExportSummary' }
        ) {
            (Get-Command -Name $Command).OutputType.Name | Should -Contain $Type
        }

        It 'New-, Get-, Set-, Suspend-, Resume-ChatterConnector and Set-ChatterUserMapping write connectors' {
            $connector | Should -BeOfType 'ChatterConnector.Engine.Model.ChatterConnectorInfo'
            $mapped | Should -BeOfType 'ChatterConnector.Engine.Model.ChatterConnectorInfo'
            Get-ChatterConnector -Name Types -StorePath $p.Store | Should -BeOfType 'ChatterConnector.Engine.Model.ChatterConnectorInfo'
            $connector | Set-ChatterConnector -Schedule 03:00:00 -PassThru | Should -BeOfType 'ChatterConnector.Engine.Model.ChatterConnectorInfo'
            $suspended = $connector | Suspend-ChatterConnector -PassThru
            $suspended | Should -BeOfType 'ChatterConnector.Engine.Model.ChatterConnectorInfo'
            $suspended.Suspended | Should -BeTrue
            $resumed = $connector | Resume-ChatterConnector -PassThru
            $resumed.Suspended | Should -BeFalse
            $connector | Set-ChatterConnector -Schedule 04:00:00 | Should -BeNullOrEmpty
        }

        It 'Start-ChatterImport and Get-ChatterImportRun write runs' {
            $run | Should -BeOfType 'ChatterConnector.Engine.Model.ChatterImportRun'
            $run.StorePath | Should -Not -BeNullOrEmpty
            Get-ChatterImportRun -Name Types -StorePath $p.Store -Last 1 | Should -BeOfType 'ChatterConnector.Engine.Model.ChatterImportRun'
            (Get-ChatterImportRun -Name Types -StorePath $p.Store -Last 1).RunId | Should -Be $run.RunId
        }

        It 'Get-ChatterConnectorLog writes log entries, and -OutFile writes them as CSV' {
            $entries = @($run | Get-ChatterConnectorLog)
            $entries | Should -Not -BeNullOrEmpty
            $entries[0] | Should -BeOfType 'ChatterConnector.Engine.Model.ChatterLogEntry'
            $entries | ForEach-Object { $_.RunId | Should -Be $run.RunId }
            $csv = "$TestDrive/log-$($run.RunId).csv"
            $run | Get-ChatterConnectorLog -OutFile $csv | Should -BeNullOrEmpty
            @(Import-Csv -LiteralPath $csv) | Should -HaveCount $entries.Count
        }

        It 'Get-ChatterUserMapping writes one mapping entry per user' {
            $mapping = @(Get-ChatterUserMapping -Name Types -StorePath $p.Store)
            $mapping | Should -HaveCount $summary.Users
            $mapping[0] | Should -BeOfType 'ChatterConnector.Engine.Model.ChatterUserMappingEntry'
            $mapping.Source | Should -Not -Contain 'Unmapped'
        }

        It 'Test-ChatterConnector writes one passing result per check' {
            $results = @($connector | Test-ChatterConnector)
            $results | Should -HaveCount 3
            $results[0] | Should -BeOfType 'ChatterConnector.Commands.ChatterConnectorTestResult'
            $results.Check | Should -Be @('Source', 'Staging', 'Target')
            $results.Succeeded | Should -Not -Contain $false
        }

        It 'Get-ChatterItem, ConvertTo-ChatterMessage and Export-ChatterMessage write items, messages and files' {
            $items = @(Get-ChatterItem -SourcePath $export -ItemType Post)
            $items | Should -Not -BeNullOrEmpty
            $items[0] | Should -BeOfType 'ChatterConnector.Engine.Model.ChatterItem'
            $message = $items[0] | ConvertTo-ChatterMessage
            $message | Should -BeOfType 'ChatterConnector.Engine.Conversion.ChatterMessage'
            $message.ItemKey | Should -Be $items[0].Key
            $file = $message | Export-ChatterMessage -Path "$TestDrive/eml"
            $file | Should -BeOfType 'System.IO.FileInfo'
            $file.Name | Should -Be "$($items[0].Key).eml"
            @($items[0] | Export-ChatterMessage -Path "$TestDrive/eml" -ErrorVariable err -ErrorAction SilentlyContinue) | Should -HaveCount 0
            $err[0].FullyQualifiedErrorId | Should -Be 'ChatterExport.FileExists,ChatterConnector.Commands.ExportChatterMessageCommand'
        }

        It 'New-ChatterSampleExport writes a summary, the same for the same seed' {
            $summary | Should -BeOfType 'ChatterConnector.Engine.Sources.Sample.SampleExportSummary'
            $again = New-ChatterSampleExport -Path "$TestDrive/export-again" -Users 20 -Posts 50 -Seed 7
            $again.Items | Should -Be $summary.Items
            $again.FileBytes | Should -Be $summary.FileBytes
        }

        It 'Remove-ChatterConnector writes nothing' {
            Remove-ChatterConnector -Name Types -StorePath $p.Store -Confirm:$false | Should -BeNullOrEmpty
        }
    }
}
