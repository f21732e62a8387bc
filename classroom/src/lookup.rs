//! `hint N.M` and `solution N.M`: one exercise, looked up.

use anyhow::bail;

use crate::course::{Course, Exercise};
use crate::grade::region_of;
use crate::terminal::wrap;

/// What `hint` prints: the task, where to write it, the hint and the test command.
pub fn hint_text(exercise: &Exercise) -> String {
    format!(
        "Exercise {id}: {title}\n  where: {file} (read book/src/{page})\n\n{task}\n\nHint: {hint}\n\n\
         Check it: cargo classroom check {id}   (or with the tests' whole output: {command})\n",
        id = exercise.id,
        title = exercise.title,
        file = exercise.file,
        page = exercise.page,
        task = exercise.task.trim(),
        hint = wrap(exercise.hint.trim(), 90, "      "),
        command = exercise.test_command(),
    )
}

/// `cargo classroom hint N.M`.
pub fn hint(id: &str) -> anyhow::Result<()> {
    let course = Course::find()?;
    print!("{}", hint_text(course.exercise(id)?));
    Ok(())
}

/// `cargo classroom solution N.M`: the reference solution, in the reference crate only.
pub fn solution(id: &str) -> anyhow::Result<()> {
    let course = Course::find()?;
    if course.catalogue.student_copy {
        bail!(
            "this is a student copy: solutions are for teachers, in the reference crate. Stuck? \
             `cargo classroom hint {id}`"
        );
    }
    let exercise = course.exercise(id)?;
    let region = region_of(&course.root, exercise)?;
    println!("// Exercise {}: {}", exercise.id, exercise.title);
    println!(
        "// between the markers, at the end of its function in {}:",
        exercise.file
    );
    print!("{}", region.body);
    Ok(())
}
