// Opens, updates or closes the ONE issue of the newest-dependencies workflow. It only ever touches an issue
// that carries its hidden marker and was opened by the workflow's bot, never one a person opened.
// Called from actions/github-script as `await require(...)({ github, context, outcome, log, freeze })`.
const MARKER = '<!-- reconciler:newest-dependencies -->';
const TITLE = 'The test suite fails against the newest releases of our dependencies';
const BOT = 'github-actions[bot]';
const LIMIT = 60000; // an issue body holds at most 65536 characters

function tail(text, limit) {
  if (text.length <= limit) return text;
  const cut = text.slice(text.length - limit);
  return cut.slice(cut.indexOf('\n') + 1);
}

function body({ runUrl, log, freeze }) {
  const fence = '```';
  const parts = [
    MARKER,
    `\`bash .ci/run\` with \`RECONCILER_DEPS=newest\` (no lock) failed in [this run](${runUrl}).`,
    'Main is unaffected: CI installs `.ci/requirements.lock`. Fix the code or the tests for the new release, or',
    'exclude it in `pyproject.toml`; then refresh the lock with `bash .ci/lock`.',
    '',
    '<details><summary>Versions installed</summary>',
    '',
    fence,
    freeze.trim(),
    fence,
    '',
    '</details>',
    '',
    'The end of the output:',
    '',
    fence,
  ];
  const closing = [fence, ''];
  const room = LIMIT - parts.join('\n').length - closing.join('\n').length - 2;
  return [...parts, tail(log.replaceAll(fence, "'''").trim(), Math.max(room, 0)), ...closing].join('\n');
}

module.exports = async function run({ github, context, outcome, log, freeze }) {
  const { owner, repo } = context.repo;
  const runUrl = `${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId}`;
  const open = await github.paginate(github.rest.issues.listForRepo, {
    owner, repo, state: 'open', creator: BOT, sort: 'created', direction: 'asc', per_page: 100,
  });
  const issue = open.find((i) => !i.pull_request && (i.body ?? '').startsWith(MARKER));
  if (outcome === 'success') {
    if (issue) {
      await github.rest.issues.createComment({
        owner, repo, issue_number: issue.number,
        body: `The suite passes against the newest releases again ([run](${runUrl})). Closing.`,
      });
      await github.rest.issues.update({ owner, repo, issue_number: issue.number, state: 'closed', state_reason: 'completed' });
    }
    return issue ? 'closed' : 'nothing';
  }
  const text = body({ runUrl, log, freeze });
  if (issue) {
    await github.rest.issues.update({ owner, repo, issue_number: issue.number, body: text });
    return 'updated';
  }
  await github.rest.issues.create({ owner, repo, title: TITLE, body: text });
  return 'opened';
};
