//! The console UI's TypeScript types, generated from these Rust types: `ui/src/lib/protocol.ts`
//! must be exactly what this test writes, so the two can never drift apart. Run with
//! `UPDATE_TYPESCRIPT=1` to rewrite the file after changing a type.
#![cfg(feature = "ts")]
#![allow(clippy::unwrap_used)]

use switchboard_protocol::articles::{Article, ArticleHit, ArticleStatus, ArticleVersion, Insert};
use switchboard_protocol::bot::HandoffReason;
use switchboard_protocol::campaign::*;
use switchboard_protocol::choices::*;
use switchboard_protocol::consent::*;
use switchboard_protocol::console::*;
use switchboard_protocol::error::{ApiError, ErrorCode};
use switchboard_protocol::model::*;
use switchboard_protocol::mutation::SetConsent;
use switchboard_protocol::preferences::{NotificationPreferences, QuietHours};
use switchboard_protocol::report::*;
use ts_rs::TS;

macro_rules! declarations {
    ($($t:ty),* $(,)?) => {
        vec![$(format!("export {}", <$t as TS>::decl())),*]
    };
}

fn generate() -> String {
    let decls = declarations![
        ErrorCode,
        ApiError,
        Role,
        Presence,
        Priority,
        RoutingMode,
        RoutingPolicy,
        BusinessCalendar,
        SlaPolicy,
        SlaState,
        ChannelKind,
        Agent,
        Team,
        Inbox,
        Template,
        Identity,
        ConsentPurpose,
        ConsentSource,
        Consent,
        SetConsent,
        CrmCandidate,
        CrmField,
        CrmSnapshot,
        Contact,
        ConversationStatus,
        Direction,
        Delivery,
        Attachment,
        ChoiceStyle,
        Choice,
        Choices,
        Chosen,
        View,
        ViewCount,
        ConversationRow,
        OutboxState,
        OutboxItem,
        ConflictInfo,
        ThreadLine,
        OutboxLine,
        OpenedAttachment,
        Thread,
        History,
        Profile,
        SearchQuery,
        AssigneeFilter,
        SearchHit,
        Connection,
        SyncProgress,
        Notification,
        NotificationPreferences,
        QuietHours,
        ConsoleEvent,
        Permissions,
        Directory,
        AgentLoad,
        ReplyWindow,
        ReplyRoute,
        TemplateOption,
        Composer,
        CannedResponse,
        CannedOption,
        CannedDraft,
        ArticleStatus,
        Article,
        ArticleVersion,
        ArticleHit,
        Insert,
        ArticleEntry,
        ArticleDraft,
        HandoffReason,
        SignIn,
        Session,
        DemoLogin,
        ShellEvent,
        UpdateReady,
        AssignTo,
        NewConversation,
        Started,
        ReportQuery,
        Durations,
        ChannelVolume,
        DayVolume,
        AgentReport,
        SlaTarget,
        SlaAttainment,
        CsatSummary,
        BotSummary,
        HandoffCount,
        ArticleUse,
        Report,
        ReportView,
        CampaignState,
        CampaignAction,
        ConditionOp,
        Condition,
        ContactFilter,
        Audience,
        AllowedHours,
        FrequencyCap,
        CampaignSpec,
        RowProblem,
        PreviewRow,
        AudienceCheck,
        CampaignCounts,
        Campaign,
        RecipientState,
        RecipientResult,
        RecipientPage,
        Segment,
        NewSegment,
    ];
    let mut out = String::from(
        "// Generated from crates/protocol by `UPDATE_TYPESCRIPT=1 cargo test -p switchboard-protocol --test typescript`.\n\
         // Do not edit. Ids, timestamps and counts are integers below 2^53, sent as JSON numbers.\n\n",
    );
    for d in decls {
        // ts-rs writes 64-bit integers as `bigint`; on the wire they are JSON numbers.
        out.push_str(&d.replace("bigint", "number"));
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[test]
fn ui_types_match_the_protocol() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/protocol.ts");
    let generated = generate();
    if std::env::var_os("UPDATE_TYPESCRIPT").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ui/src/lib/protocol.ts is out of date: run `UPDATE_TYPESCRIPT=1 cargo test -p switchboard-protocol --test typescript`"
    );
}
