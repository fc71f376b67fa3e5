using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.Targets
{
    /// <summary>Makes the target a connector's settings name.</summary>
    public static class TargetFactory
    {
        public static IMessageTarget Create(ChatterConnectorInfo connector)
        {
            if (string.IsNullOrEmpty(connector.MaildirPath))
                throw new ChatterException("ChatterConnector.NoTarget", ChatterErrorKind.InvalidArgument,
                    $"The connector '{connector.Name}' has no target. Set one with Set-ChatterConnector -MaildirPath.", connector.Name);
            return new MaildirTarget(connector.MaildirPath!, connector.FolderName);
        }
    }
}
