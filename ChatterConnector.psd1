@{
    RootModule           = 'ChatterConnector.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '6f7c2d8e-3b0a-4b9e-9a55-2d1f0c4e8a71'
    Author               = 'ChatterConnector contributors'
    CompanyName          = 'ChatterConnector'
    Copyright            = '(c) ChatterConnector contributors. MIT License.'
    Description          = 'Archives Salesforce Chatter (posts, comments, private messages, files, edits and deletions) into Microsoft 365 mailboxes or a local Maildir, incrementally and exactly once.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    FormatsToProcess     = @('ChatterConnector.Format.ps1xml')
    CmdletsToExport      = @(
        'New-ChatterConnector'
        'Get-ChatterConnector'
        'Set-ChatterConnector'
        'Remove-ChatterConnector'
        'Copy-ChatterConnector'
        'Suspend-ChatterConnector'
        'Resume-ChatterConnector'
        'Test-ChatterConnector'
        'Set-ChatterUserMapping'
        'Get-ChatterUserMapping'
        'Start-ChatterImport'
        'Get-ChatterImportRun'
        'Get-ChatterConnectorLog'
        'Get-ChatterItem'
        'ConvertTo-ChatterMessage'
        'Export-ChatterMessage'
        'New-ChatterSampleExport'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('Salesforce', 'Chatter', 'Archive', 'Exchange', 'Microsoft365', 'eDiscovery', 'Maildir')
            ProjectUri = 'https://github.com/chatterconnector/chatterconnector'
        }
    }
}
