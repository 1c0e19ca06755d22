// Starts `policyc lsp` for .policy files. The executable comes from the
// `policyc.path` setting (default: `policyc` on PATH).
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("policyc").get("path") || "policyc";
  const serverOptions = { command, args: ["lsp"] };
  const clientOptions = {
    documentSelector: [{ scheme: "file", language: "policy" }, { scheme: "untitled", language: "policy" }],
  };
  client = new LanguageClient("policyc", "policyc language server", serverOptions, clientOptions);
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
