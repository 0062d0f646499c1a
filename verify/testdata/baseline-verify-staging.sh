#!/usr/bin/env bash
# A stand-in for the original verify-staging.sh (whose source is not in this
# repository): the same shape, 13 sequential AWS CLI calls for 7 weaker
# checks, used only to measure the baseline the verifier is compared with.
# Usage: env $(cat emu.env) verify/testdata/baseline-verify-staging.sh staging
set -euo pipefail
env=${1:-staging}
ep=(--endpoint-url "$AWS_ENDPOINT_URL" --region "${AWS_REGION:-us-east-1}")
p=mirror-dissonance-$env
for t in fp-events consent block-counter; do
  aws "${ep[@]}" dynamodb describe-table --table-name "$p-$t" --query Table.TableStatus --output text
  aws "${ep[@]}" dynamodb describe-continuous-backups --table-name "$p-$t" \
    --query ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus --output text
done
aws "${ep[@]}" kms describe-key --key-id "alias/mirror-dissonance-$env" --query KeyMetadata.KeyState --output text
aws "${ep[@]}" kms get-key-rotation-status --key-id "alias/mirror-dissonance-$env" --output text
aws "${ep[@]}" cloudwatch describe-alarms --alarm-name-prefix "$p-" --query 'length(MetricAlarms)' --output text
acct=$(aws "${ep[@]}" sts get-caller-identity --query Account --output text)
topic="arn:aws:sns:${AWS_REGION:-us-east-1}:$acct:$p-ops-alerts"
aws "${ep[@]}" sns get-topic-attributes --topic-arn "$topic" --query Attributes.KmsMasterKeyId --output text
aws "${ep[@]}" sns publish --topic-arn "$topic" --message "verify-staging test" --query MessageId --output text
aws "${ep[@]}" ssm get-parameter --name "/guardian/$env/redaction_nonce_v1" --query Parameter.Type --output text
