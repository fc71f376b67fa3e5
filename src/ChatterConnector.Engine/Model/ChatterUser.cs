namespace ChatterConnector.Engine.Model
{
    /// <summary>A Salesforce user as Chatter knows it (the User object).</summary>
    public sealed class ChatterUser
    {
        public string Id { get; set; } = "";
        public string Name { get; set; } = "";
        public string? Username { get; set; }
        public string? Email { get; set; }
        public bool IsActive { get; set; } = true;

        public override string ToString() => string.IsNullOrEmpty(Name) ? Id : Name;
    }
}
