// Runs a github-script step's script the way actions/github-script does (an async function of require,
// github, context, core), against an in-memory GitHub issues API seeded from recorded state.
// Usage: node fake_github.js INPUT.json; prints {state, calls, error} as JSON.
'use strict';
const fs = require('fs');

const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const state = input.state;
state.issues = state.issues || [];
state.comments = state.comments || [];
state.labels = state.labels || [];
const calls = [];
const bot = { login: 'github-actions[bot]', type: 'Bot' };
let nextId = 1000;

function httpError(status, message) {
  const error = new Error(message);
  error.status = status;
  return error;
}

function record(name, params) {
  const { owner, repo, ...rest } = params;
  if (owner !== input.context.repo.owner || repo !== input.context.repo.repo) {
    throw new Error(`${name}: called for ${owner}/${repo}`);
  }
  calls.push([name, rest]);
}

function issueNumbered(number) {
  const issue = state.issues.find((i) => i.number === number);
  if (!issue) throw httpError(404, `no issue ${number}`);
  return issue;
}

const issues = {
  async listForRepo(params) {
    record('issues.listForRepo', params);
    const wanted = (params.labels || '').split(',').filter(Boolean);
    const data = state.issues.filter(
      (i) => (params.state === 'all' || i.state === params.state)
        && wanted.every((l) => i.labels.some((x) => x.name === l)),
    );
    data.sort((a, b) => (params.direction === 'desc' ? b.number - a.number : a.number - b.number));
    return { data: JSON.parse(JSON.stringify(data)) };
  },
  async listComments(params) {
    record('issues.listComments', params);
    return { data: state.comments.filter((c) => c.issue_number === params.issue_number) };
  },
  async createComment(params) {
    record('issues.createComment', params);
    issueNumbered(params.issue_number);
    const comment = { id: nextId++, issue_number: params.issue_number, body: params.body, user: bot };
    state.comments.push(comment);
    return { data: comment };
  },
  async updateComment(params) {
    record('issues.updateComment', params);
    const comment = state.comments.find((c) => c.id === params.comment_id);
    if (!comment) throw httpError(404, `no comment ${params.comment_id}`);
    comment.body = params.body;
    return { data: comment };
  },
  async update(params) {
    record('issues.update', params);
    const issue = issueNumbered(params.issue_number);
    for (const key of ['body', 'state', 'state_reason', 'title']) if (key in params) issue[key] = params[key];
    return { data: issue };
  },
  async create(params) {
    record('issues.create', params);
    const number = Math.max(0, ...state.issues.map((i) => i.number)) + 1;
    const labels = (params.labels || []).map((name) => ({ name }));
    const issue = { number, title: params.title, body: params.body, state: 'open', labels, user: bot };
    state.issues.push(issue);
    return { data: issue };
  },
  async getLabel(params) {
    record('issues.getLabel', params);
    if (!state.labels.includes(params.name)) throw httpError(404, 'Not Found');
    return { data: { name: params.name } };
  },
  async createLabel(params) {
    record('issues.createLabel', params);
    state.labels.push(params.name);
    return { data: { name: params.name } };
  },
};

const github = {
  rest: { issues },
  async paginate(method, params) {
    return (await method(params)).data;
  },
};
const core = {
  info: () => {},
  warning: () => {},
  setFailed: (message) => { throw new Error(message); },
};
const context = {
  serverUrl: 'https://github.com',
  runId: 4242,
  payload: {},
  ...input.context,
  get issue() {
    return { ...this.repo, number: this.payload.pull_request ? this.payload.pull_request.number : undefined };
  },
};

(async () => {
  const AsyncFunction = Object.getPrototypeOf(async () => null).constructor;
  const run = new AsyncFunction('require', 'github', 'context', 'core', input.script);
  let error = null;
  try {
    await run(require, github, context, core);
  } catch (caught) {
    error = String(caught && caught.message ? caught.message : caught);
  }
  process.stdout.write(JSON.stringify({ state, calls, error }));
})();
