using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Platform.Linux.Tests")]
[assembly: InternalsVisibleTo("Fuzz")]
[assembly: InternalsVisibleTo("Gateway.Tests")]
