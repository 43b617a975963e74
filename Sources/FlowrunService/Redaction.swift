import Flowrun

extension Service {
    /// `record` as the admin API shows it: redacted again by its flow's redactor (records are redacted when
    /// they are saved; this also covers records another process or an older version saved).
    public func redacted(_ record: RunRecord) -> RunRecord {
        flow(named: record.flow)?.runtime.redactor.redact(record) ?? record
    }
}
