//! A customer's SMS as Twilio delivers it to the hub: the documented form fields, signed
//! with the account's auth token over the URL Twilio was configured to call.

use switchboard_hub::channels::signature;

/// One inbound SMS webhook.
pub struct Sms<'a> {
    /// Where the request is sent (the hub's own address).
    pub post_to: &'a str,
    /// The URL Twilio signs (the public one it was given; often the same).
    pub signed_url: &'a str,
    pub auth_token: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub body: &'a str,
    pub sid: &'a str,
}

/// Posts the webhook and returns the hub's status.
pub async fn post(http: &reqwest::Client, sms: &Sms<'_>) -> reqwest::StatusCode {
    let params: Vec<(String, String)> = [
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("ApiVersion", "2010-04-01"),
        ("Body", sms.body),
        ("From", sms.from),
        ("MessageSid", sms.sid),
        ("NumMedia", "0"),
        ("SmsMessageSid", sms.sid),
        ("To", sms.to),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let form = form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter()).finish();
    http.post(sms.post_to)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature::twilio(sms.auth_token, sms.signed_url, &params))
        .body(form)
        .send()
        .await
        .map(|r| r.status())
        .unwrap_or(reqwest::StatusCode::BAD_GATEWAY)
}
