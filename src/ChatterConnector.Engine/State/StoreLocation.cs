using System;
using System.IO;

namespace ChatterConnector.Engine.State
{
    /// <summary>Where the connector store lives: -StorePath, else $CHATTERCONNECTOR_HOME, else a folder in the user's profile.</summary>
    public static class StoreLocation
    {
        public const string EnvironmentVariable = "CHATTERCONNECTOR_HOME";

        public static string Resolve(string? storePath)
        {
            if (!string.IsNullOrWhiteSpace(storePath)) return Path.GetFullPath(storePath);
            var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(env)) return Path.GetFullPath(env);
            var appData = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create);
            if (string.IsNullOrEmpty(appData))
                appData = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
            return Path.Combine(appData, "ChatterConnector");
        }
    }
}
