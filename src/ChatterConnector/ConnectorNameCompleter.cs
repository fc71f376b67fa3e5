using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Language;
using ChatterConnector.Engine;
using ChatterConnector.Engine.State;

namespace ChatterConnector.Commands
{
    /// <summary>Tab-completes connector names from the store the command line names (or the default store).</summary>
    public sealed class ConnectorNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var results = new List<CompletionResult>();
            var storePath = fakeBoundParameters?["StorePath"] as string ?? fakeBoundParameters?["StoreUri"]?.ToString();
            var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
            try
            {
                using var store = StoreFactory.Open(storePath);
                foreach (var c in store.ListConnectors())
                    if (pattern.IsMatch(c.Name))
                        results.Add(new CompletionResult(c.Name.IndexOf(' ') >= 0 ? "'" + c.Name + "'" : c.Name, c.Name, CompletionResultType.ParameterValue, c.SourcePath ?? c.Name));
            }
            catch (ChatterException)
            {
                // No store there: nothing to complete.
            }
            return results;
        }
    }
}
