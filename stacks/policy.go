package stacks

import (
	"encoding/json"
	"fmt"
)

// PolicyDocument is an IAM/KMS/SNS policy document. Typed so that policies
// are built, not templated, and the gate can read them back.
type PolicyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one policy statement.
type Statement struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Principal map[string]any            `json:"Principal,omitempty"`
	Action    []string                  `json:"Action"`
	Resource  []string                  `json:"Resource,omitempty"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

func allow(sid string, actions []string, resources ...string) Statement {
	return Statement{Sid: sid, Effect: "Allow", Action: actions, Resource: resources}
}

func policy(statements ...Statement) PolicyDocument {
	return PolicyDocument{Version: "2012-10-17", Statement: statements}
}

// JSON renders the document.
func (p PolicyDocument) JSON() (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("rendering policy document: %w", err)
	}
	return string(b), nil
}

// arns builds ARNs for one account and region.
type arns struct {
	partition, region, account string
}

func (a arns) dynamoTable(name string) string {
	return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", a.partition, a.region, a.account, name)
}

func (a arns) kmsAlias(alias string) string {
	return fmt.Sprintf("arn:%s:kms:%s:%s:%s", a.partition, a.region, a.account, alias)
}

func (a arns) sns(name string) string {
	return fmt.Sprintf("arn:%s:sns:%s:%s:%s", a.partition, a.region, a.account, name)
}

func (a arns) alarm(name string) string {
	return fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", a.partition, a.region, a.account, name)
}

func (a arns) dashboard(name string) string {
	return fmt.Sprintf("arn:%s:cloudwatch::%s:dashboard/%s", a.partition, a.account, name)
}

func (a arns) role(name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", a.partition, a.account, name)
}

func (a arns) root() string { return fmt.Sprintf("arn:%s:iam::%s:root", a.partition, a.account) }

func (a arns) ssmParameters(path string) string {
	return fmt.Sprintf("arn:%s:ssm:%s:%s:parameter%s*", a.partition, a.region, a.account, path)
}
