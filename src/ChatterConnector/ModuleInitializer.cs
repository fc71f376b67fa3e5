using System;
using System.IO;
using System.Management.Automation;
using System.Runtime.InteropServices;

namespace ChatterConnector.Commands
{
    /// <summary>
    /// Runs when the module is imported. An imported module has no deps.json, so the runtime would
    /// not find native SQLite under runtimes/&lt;rid&gt;/native. On PowerShell 7 the module's load
    /// context finds it (ChatterConnector.Loader); on Windows PowerShell it is loaded here, from there,
    /// before SQLite is first used.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer
    {
        private static bool _done;

        public void OnImport()
        {
            if (_done) return;
            _done = true;
            if (!RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.Ordinal)) return;
            var root = Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location) ?? "";
            var arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
            var native = Path.Combine(root, "runtimes", "win-" + arch, "native", "e_sqlite3.dll");
            if (File.Exists(native)) LoadLibrary(native);
        }

        [DllImport("kernel32", CharSet = CharSet.Unicode, SetLastError = true)]
        private static extern IntPtr LoadLibrary(string path);
    }
}
