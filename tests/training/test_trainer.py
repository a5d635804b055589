"""`transformers.Trainer` trains `ViCLIPModel` unchanged with `ViCLIPDataCollator`."""

from __future__ import annotations

import torch
from tiny_data import tiny_batch, tiny_examples, tiny_model
from transformers import AutoModel, Trainer, TrainingArguments

from viclip import ViCLIPModel
from viclip.training import ViCLIPDataCollator


def test_two_trainer_steps_lower_the_loss_and_the_saved_folder_reloads(tmp_path):
    model = tiny_model()
    batch = tiny_batch(8)
    with torch.no_grad():
        before = model(**batch, return_loss=True).loss.item()
    args = TrainingArguments(
        output_dir=str(tmp_path / "trainer"), per_device_train_batch_size=8, max_steps=2, learning_rate=1e-4,
        remove_unused_columns=False, report_to=[], save_strategy="no", logging_steps=1, use_cpu=True,
        dataloader_num_workers=0, seed=0,
    )  # fmt: skip
    trainer = Trainer(
        model=model, args=args, train_dataset=tiny_examples(8), data_collator=ViCLIPDataCollator()
    )
    trainer.train()
    model.eval()
    with torch.no_grad():
        after = model(**batch, return_loss=True).loss.item()
    assert after < before

    trainer.save_model(str(tmp_path / "saved"))
    reloaded = AutoModel.from_pretrained(tmp_path / "saved")
    assert isinstance(reloaded, ViCLIPModel)
    with torch.no_grad():
        torch.testing.assert_close(reloaded.eval()(**batch, return_loss=True).loss.item(), after)
