System.Console.WriteLine("shell");
