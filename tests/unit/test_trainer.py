"""core.training.trainer: it learns, stops and resumes, recovers from NaN, and is deterministic."""

import dataclasses

import numpy as np
import pytest

from core.nn.language_model import build_model
from core.training.trainer import Trainer
from tests.helpers import FOX_IDS, FOX_VOCAB, SHORT, SMALL, stays, until, wait_for_status, wait_for_step

VOCAB, IDS, CONFIG, TRAIN = FOX_VOCAB, FOX_IDS, SMALL, SHORT


def train(config=CONFIG, train_config=TRAIN, timeout=120):
    model = build_model(config)
    trainer = Trainer(model, config, train_config, IDS, VOCAB)
    trainer.start()
    trainer.join(timeout)
    return trainer, model


def test_loss_falls_and_everything_is_recorded():
    trainer, _ = train()
    p = trainer.progress()
    assert p.status == "finished" and p.message == "Training finished."
    assert p.step == p.total_steps == 40 and len(p.loss) == 40 and list(p.steps) == list(range(1, 41))
    assert np.mean(p.loss[-5:]) < np.mean(p.loss[:5]) - 0.5
    assert len(p.val_loss) == 2 and len(p.samples) == 2 and len(p.samples[0][1]) > 20
    assert p.layer_norms.shape == (40, 3) and len(p.layer_names) == 3 and np.all(p.layer_norms > 0)
    assert p.perplexity == pytest.approx(np.exp(p.loss[-1]))


@pytest.mark.slow  # three trainings
def test_same_seed_same_loss_curve():
    a, _ = train()
    b, _ = train()
    np.testing.assert_array_equal(a.progress().loss, b.progress().loss)
    c, _ = train(dataclasses.replace(CONFIG, seed=3))
    assert not np.array_equal(c.progress().loss, a.progress().loss)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_cells_train(cell):
    trainer, _ = train(dataclasses.replace(CONFIG, cell=cell), dataclasses.replace(TRAIN, epochs=1))
    assert trainer.progress().status == "finished"


def test_nan_loss_stops_and_restores_last_good_weights():
    config = dataclasses.replace(CONFIG, activation="relu", recurrent_init_scale=3.0)
    huge = dataclasses.replace(TRAIN, learning_rate=50.0, clip_norm=0.0, optimizer="sgd", epochs=3)
    trainer, model = train(config, huge)
    p = trainer.progress()
    assert p.status == "failed" and "not a finite number" in p.message and "learning rate" in p.message
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    assert p.step < p.total_steps


def test_pause_is_published_by_the_training_thread_and_stop_keeps_a_checkpoint():
    long = dataclasses.replace(TRAIN, epochs=50, max_steps_per_epoch=20)
    model = build_model(CONFIG)
    trainer = Trainer(model, CONFIG, long, IDS, VOCAB)
    trainer.start()
    wait_for_step(trainer, 5)
    trainer.pause()
    wait_for_status(trainer, "paused")
    paused_at = trainer.progress().step
    stays(lambda: trainer.progress().step == paused_at and trainer.history.rows == paused_at, 0.5,
          "no training while paused")
    assert trainer.checkpoint.step == paused_at and trainer.checkpoint.optimizer is not None  # fetchable while paused
    trainer.resume()
    wait_for_step(trainer, paused_at + 3)
    trainer.stop()
    trainer.join(30)
    p = trainer.progress()
    assert p.status == "stopped" and "weights so far are kept" in p.message
    ckpt = trainer.checkpoint
    assert ckpt.step == p.step and ckpt.position == divmod(p.step, 20)
    assert all(np.array_equal(a, b) for a, b in zip(ckpt.weights, model.get_weights()))


@pytest.mark.parametrize("stateful", [False, pytest.param(True, marks=pytest.mark.slow)])  # three trainings each
def test_continuing_from_a_checkpoint_equals_training_straight_through(stateful):
    """A stop mid-epoch, then a new Trainer (another process, in the app) resumed from the checkpoint: the same
    losses and weights as one uninterrupted training, because the optimizer's moments and a stateful model's
    carried hidden state travel with the weights. The first training is started paused and stepped five batches
    (exactly five, so the stop lands mid-epoch however busy the machine is)."""
    config = dataclasses.replace(CONFIG, stateful=stateful)
    tr = dataclasses.replace(TRAIN, sample_length=0, max_steps_per_epoch=0)  # whole epochs, of about 40 batches
    straight_model = build_model(config)
    straight = Trainer(straight_model, config, tr, IDS, VOCAB)
    straight.start()
    straight.join(120)
    first = Trainer(build_model(config), config, tr, IDS, VOCAB)
    first.pause()
    first.start()
    for _ in range(5):
        first.step()
    wait_for_status(first, "paused", step=5)
    first.stop()
    first.join(30)
    done = first.progress().step
    assert done == 5 and first.checkpoint.position == (0, 5), first.checkpoint.position  # stopped mid-epoch
    assert len(first.checkpoint.carried) == (1 if stateful else 0)
    second_model = build_model(config)
    second = Trainer(second_model, config, tr, IDS, VOCAB, resume=first.checkpoint)
    second.start()
    second.join(120)
    both = np.concatenate([first.progress().loss, second.progress().loss])
    assert second.progress().status == "finished" and second.progress().steps[0] == done + 1
    np.testing.assert_allclose(both, straight.progress().loss, rtol=1e-5)
    for a, b in zip(second_model.get_weights(), straight_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_snapshots_share_the_history_instead_of_copying_it():
    """Publishing copies nothing that grows: two snapshots view one buffer, and an old one never changes."""
    long = dataclasses.replace(TRAIN, epochs=50)
    trainer = Trainer(build_model(CONFIG), CONFIG, long, IDS, VOCAB)
    trainer.start()
    wait_for_step(trainer, 3)
    a = trainer.progress()
    frozen = a.loss.copy()
    wait_for_step(trainer, a.step + 5)
    b = trainer.progress()
    trainer.stop()
    trainer.join(30)
    assert len(b.loss) > len(a.loss) and np.shares_memory(a.loss, b.loss)
    np.testing.assert_array_equal(a.loss, frozen)
    assert not a.loss.flags.writeable


@pytest.mark.slow  # a stress test: it presses pause and resume as fast as it can for thirty snapshots
def test_snapshots_are_never_torn():
    """Every snapshot read while the thread appends has as many steps as losses, accuracies and norms rows, also
    while pause and resume are pressed over and over (they used to publish from this thread, mid-append)."""
    long = dataclasses.replace(TRAIN, epochs=50)
    trainer = Trainer(build_model(CONFIG), CONFIG, long, IDS, VOCAB)
    trainer.start()
    seen = set()

    def thirty_versions_whole() -> bool:
        trainer.pause()
        trainer.resume()
        p = trainer.progress()
        assert len(p.steps) == len(p.loss) == len(p.accuracy) == len(p.layer_norms), p.version
        seen.add(p.version)
        return len(seen) >= 30

    until(thirty_versions_whole, 60, lambda: f"30 snapshot versions; saw {len(seen)}", every=0)
    trainer.stop()
    trainer.join(30)


@pytest.mark.slow  # waits out the trainer's keep-alive period (about 2 s)
def test_keep_alive_false_stops_the_thread():
    long = dataclasses.replace(TRAIN, epochs=1000)
    trainer = Trainer(build_model(CONFIG), CONFIG, long, IDS, VOCAB, keep_alive=lambda: False)
    trainer.start()
    trainer.join(30)
    assert trainer.progress().status == "stopped" and "closed" in trainer.progress().message


def test_train_step_reports_true_gradient_norms():
    """layer_norms equal the norms of dense gradients computed separately (the embedding's is sparse)."""
    from core.nn.train_step import layer_groups, make_train_step
    from core.nn.tf import tf

    model = build_model(dataclasses.replace(CONFIG, stateful=False))
    x, y = IDS[None, :64].repeat(4, 0), IDS[None, 1:65].repeat(4, 0)
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    dense = [tf.convert_to_tensor(g).numpy() for g in tape.gradient(loss, model.trainable_variables)]
    names, group = layer_groups(model)
    expected = [np.sqrt(sum(np.sum(d**2) for d, k in zip(dense, group) if k == j)) for j in range(len(names))]
    step, _ = make_train_step(model, dataclasses.replace(CONFIG, stateful=False), TRAIN, fast=False)
    out = step(tf.constant(x), tf.constant(y))
    np.testing.assert_allclose(out["layer_norms"].numpy(), expected, rtol=1e-4)
    np.testing.assert_allclose(float(out["grad_norm"]), np.sqrt(np.sum(np.square(expected))), rtol=1e-4)


def test_step_trains_exactly_one_batch_then_pauses():
    """Started paused, each Step advances the counter by exactly one and leaves the training paused."""
    long = dataclasses.replace(TRAIN, epochs=5, max_steps_per_epoch=50, sample_length=0)
    trainer = Trainer(build_model(CONFIG), CONFIG, long, IDS, VOCAB)
    trainer.pause()
    trainer.start()
    for want in (1, 2, 3):
        trainer.step()
        wait_for_status(trainer, "paused", step=want)
        stays(lambda: trainer.progress().step == want and trainer.checkpoint.step == want, 0.3,
              "nothing more happens while it stays paused")
    trainer.step()  # two presses before the first is done: two batches, not one
    trainer.step()
    wait_for_status(trainer, "paused", step=5)
    stays(lambda: trainer.progress().step == 5, 0.3, "a sixth batch never comes")
    trainer.stop()
    trainer.join(60)


def test_between_epochs_comes_after_each_epochs_checkpoint_and_snapshot_and_holds_the_next_epoch():
    """A sweep's trial waits in `between_epochs` for Ray Tune's judgement: by then the epoch's checkpoint and its
    validation loss are published (the server has them before Tune decides), and no step of the next epoch has run."""
    import threading

    trainer = Trainer(build_model(CONFIG), CONFIG, dataclasses.replace(TRAIN, epochs=3, sample_length=0), IDS, VOCAB)
    seen, go_on = [], threading.Event()

    def between(epoch, history):
        p = trainer.progress()
        seen.append((epoch, trainer.checkpoint.position, len(p.val_loss), len(history.val_loss), p.step))
        if epoch == 1:
            go_on.wait(60)

    trainer.between_epochs = between
    trainer.start()
    until(lambda: seen, 60, "the first epoch's end")
    stays(lambda: trainer.progress().step == 20, 0.5, "the second epoch waits")  # held: the second epoch waits
    go_on.set()
    trainer.join(60)
    assert seen == [(1, (1, 0), 1, 1, 20), (2, (2, 0), 2, 2, 40), (3, (3, 0), 3, 3, 60)]
    assert trainer.progress().status == "finished"
