namespace ChatterConnector.Engine.Model
{
    /// <summary>What a Chatter item is; also the value of the X-Chatter-Action header.</summary>
    public enum ChatterItemType
    {
        Post,
        Comment,
        PrivateMessage,
        Edit,
        Delete,
    }
}
