import {getLlama, LlamaCompletion, LlamaLogLevel} from 'node-llama-cpp';
const llama = await getLlama({gpu:false, build:'never', maxThreads:1, logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath:'/work/shared/models/stories260K.gguf'});
const ctx = await model.createContext({contextSize: 2048, sequences: 2, threads: 1});
const seq = ctx.getSequence();
const comp = new LlamaCompletion({contextSequence: seq});
for (const rp of [false, {}, {penalty:1, presencePenalty: 1.5, frequencyPenalty: 0.5}]) {
const r = await comp.generateCompletionWithMeta(model.tokenize('Once upon a time'), {maxTokens: 60, temperature: 0, repeatPenalty: rp});
console.log(JSON.stringify(rp), JSON.stringify(r.response));
}
const r = await comp.generateCompletionWithMeta(model.tokenize('user: Hello, who are you?\nassistant:'), {maxTokens: 60, temperature: 0, repeatPenalty: false});
console.log(JSON.stringify(r.response));
console.log(model.tokens.shouldPrependBosToken, model.vocabularyType);
await llama.dispose();
