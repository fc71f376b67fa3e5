namespace ChatterConnector.Engine.Sources
{
    // One class per object of a Salesforce data export, properties named exactly as the API
    // fields (and so as the CSV headers). Values stay as the export writes them: datetimes in
    // SalesforceDate's format, booleans "true"/"false", empty string for null.

    public sealed class UserRow
    {
        public string Id { get; set; } = "";
        public string Name { get; set; } = "";
        public string Username { get; set; } = "";
        public string Email { get; set; } = "";
        public string IsActive { get; set; } = "true";
    }

    public sealed class CollaborationGroupRow
    {
        public string Id { get; set; } = "";
        public string Name { get; set; } = "";
    }

    public sealed class CollaborationGroupMemberRow
    {
        public string CollaborationGroupId { get; set; } = "";
        public string MemberId { get; set; } = "";
    }

    public sealed class FeedItemRow
    {
        public string Id { get; set; } = "";
        public string ParentId { get; set; } = "";
        public string Type { get; set; } = "TextPost";
        public string Title { get; set; } = "";
        public string Body { get; set; } = "";
        public string IsRichText { get; set; } = "false";
        public string LinkUrl { get; set; } = "";
        public string RelatedRecordId { get; set; } = "";
        public string CreatedById { get; set; } = "";
        public string CreatedDate { get; set; } = "";
        public string LastEditById { get; set; } = "";
        public string LastEditDate { get; set; } = "";
        public string Revision { get; set; } = "1";
        public string IsDeleted { get; set; } = "false";
        public string SystemModstamp { get; set; } = "";
    }

    public sealed class FeedCommentRow
    {
        public string Id { get; set; } = "";
        public string FeedItemId { get; set; } = "";
        public string ParentId { get; set; } = "";
        public string CommentBody { get; set; } = "";
        public string CommentType { get; set; } = "TextComment";
        public string IsRichText { get; set; } = "false";
        public string RelatedRecordId { get; set; } = "";
        public string CreatedById { get; set; } = "";
        public string CreatedDate { get; set; } = "";
        public string LastEditDate { get; set; } = "";
        public string Revision { get; set; } = "1";
        public string IsDeleted { get; set; } = "false";
        public string SystemModstamp { get; set; } = "";
    }

    /// <summary>One revision of a post or comment. Value is the attribute's value in that revision.</summary>
    public sealed class FeedRevisionRow
    {
        public string Id { get; set; } = "";
        public string FeedEntityId { get; set; } = "";
        public string Revision { get; set; } = "";
        public string Action { get; set; } = "Edit";
        public string EditedAttribute { get; set; } = "Body";
        public string Value { get; set; } = "";
        public string IsValueRichText { get; set; } = "false";
        public string CreatedById { get; set; } = "";
        public string CreatedDate { get; set; } = "";
        public string IsDeleted { get; set; } = "false";
        public string SystemModstamp { get; set; } = "";
    }

    public sealed class FeedAttachmentRow
    {
        public string Id { get; set; } = "";
        public string FeedEntityId { get; set; } = "";
        public string Type { get; set; } = "Content";
        public string RecordId { get; set; } = "";
        public string Title { get; set; } = "";
        public string Value { get; set; } = "";
    }

    public sealed class ContentVersionRow
    {
        public string Id { get; set; } = "";
        public string ContentDocumentId { get; set; } = "";
        public string Title { get; set; } = "";
        public string PathOnClient { get; set; } = "";
        public string FileExtension { get; set; } = "";
        public string ContentSize { get; set; } = "0";
        public string Checksum { get; set; } = "";
    }

    public sealed class ChatterConversationMemberRow
    {
        public string ConversationId { get; set; } = "";
        public string MemberId { get; set; } = "";
    }

    public sealed class ChatterMessageRow
    {
        public string Id { get; set; } = "";
        public string ConversationId { get; set; } = "";
        public string SenderId { get; set; } = "";
        public string Body { get; set; } = "";
        public string SentDate { get; set; } = "";
    }

    /// <summary>The file names of a data-export folder.</summary>
    public static class ExportFiles
    {
        public const string User = "User.csv";
        public const string CollaborationGroup = "CollaborationGroup.csv";
        public const string CollaborationGroupMember = "CollaborationGroupMember.csv";
        public const string FeedItem = "FeedItem.csv";
        public const string FeedComment = "FeedComment.csv";
        public const string FeedRevision = "FeedRevision.csv";
        public const string FeedAttachment = "FeedAttachment.csv";
        public const string ContentVersion = "ContentVersion.csv";
        public const string ChatterConversationMember = "ChatterConversationMember.csv";
        public const string ChatterMessage = "ChatterMessage.csv";
        /// <summary>The folder that holds each ContentVersion's bytes, in a file named by its Id.</summary>
        public const string ContentVersionFolder = "ContentVersion";
    }
}
